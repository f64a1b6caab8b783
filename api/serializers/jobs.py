"""Background jobs: starting a pre-annotation, following its progress."""

from __future__ import annotations

from rest_framework import serializers

from annotations.models import Job


class JobCreateInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[Job.Kind.PREANNOTATE.value])
    articles = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        allow_empty=False,
        help_text="Article ids of the project; default: every article.",
    )


class JobOutput(serializers.ModelSerializer):
    progress = serializers.FloatField(read_only=True, help_text="done / total, from 0 to 1.")
    counts = serializers.DictField(child=serializers.IntegerField(), read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True, allow_null=True)

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "status",
            "done",
            "total",
            "progress",
            "counts",
            "model_version",
            "error",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class JobDetailOutput(JobOutput):
    class Meta(JobOutput.Meta):
        fields = [*JobOutput.Meta.fields, "log"]
        read_only_fields = fields
