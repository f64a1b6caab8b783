"""The model registry: trained models, their components and the gate's decisions; starting training."""

from __future__ import annotations

from rest_framework import serializers

from annotations.models import ModelComponent, TrainedModel


class ModelComponentOutput(serializers.ModelSerializer):
    class Meta:
        model = ModelComponent
        fields = [
            "name",
            "status",
            "labels",
            "retired_labels",
            "examples",
            "dev",
            "baseline",
            "compared_with",
            "details",
            "decision",
            "activated_at",
            "retired_at",
        ]
        read_only_fields = fields


class TrainedModelOutput(serializers.ModelSerializer):
    components = ModelComponentOutput(many=True, read_only=True)
    dataset = serializers.CharField(source="dataset.name", read_only=True, allow_null=True, default=None)
    job = serializers.IntegerField(source="job_id", read_only=True, allow_null=True)

    class Meta:
        model = TrainedModel
        fields = [
            "id",
            "version",
            "language",
            "status",
            "base_model",
            "dataset",
            "dataset_sha256",
            "schema_version",
            "sha256",
            "size",
            "train_articles",
            "dev_articles",
            "seconds",
            "peak_memory_mb",
            "job",
            "created_at",
            "components",
        ]
        read_only_fields = fields


class TrainInput(serializers.Serializer):
    fraction = serializers.FloatField(
        required=False,
        default=1.0,
        min_value=0.01,
        max_value=1.0,
        help_text="Train on this share of the train split's stories (a learning curve); dev stays the same.",
    )


class ComponentInput(serializers.Serializer):
    component = serializers.ChoiceField(choices=ModelComponent.Name.values)


class ActivePartOutput(serializers.Serializer):
    component = serializers.CharField()
    runs = serializers.CharField(help_text="`rules`, or the version of the model whose component runs.")
    language = serializers.CharField()
    decision = serializers.CharField(help_text="Why: the gate's comparison on dev, or a manual activation.")


class TrainBusyOutput(serializers.Serializer):
    detail = serializers.CharField()
    job = serializers.IntegerField(help_text="The training job already pending or running.")
