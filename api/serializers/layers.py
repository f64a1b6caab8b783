"""Layers and their items (mentions, events with arguments, stances): outputs, and the inputs of writes.

Every write names the layer `version` it read; a write output carries the layer's new version.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from annotations.models import Actor, Event, EventArgument, Layer, Mention, Stance
from annotations.selectors import layer_detail
from api.serializers.base import VERSION_HELP, quoted_text_field, version_field


class LayerOutput(serializers.ModelSerializer):
    annotator = serializers.CharField(
        source="annotator.username", read_only=True, allow_null=True, help_text="Username; null for gold and machine."
    )
    adjudicated_by = serializers.CharField(
        source="adjudicated_by.username",
        read_only=True,
        allow_null=True,
        help_text="Gold layers: the reviewer who marked it adjudicated (null otherwise).",
    )

    class Meta:
        model = Layer
        fields = [
            "id",
            "article",
            "kind",
            "annotator",
            "model_version",
            "status",
            "version",
            "adjudicated_by",
            "adjudicated_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class MentionOutput(serializers.ModelSerializer):
    actor_name = serializers.CharField(source="actor.name", read_only=True, allow_null=True)

    class Meta:
        model = Mention
        fields = ["id", "label", "start", "end", "text", "actor", "actor_name", "score", "provenance", "created_at"]
        read_only_fields = fields


NOT_STATED_HELP = "Roles of the event type the text does not state: the event is complete without them."


class ArgumentOutput(serializers.ModelSerializer):
    class Meta:
        model = EventArgument
        fields = ["id", "role", "mention"]
        read_only_fields = fields


class EventOutput(serializers.ModelSerializer):
    contexts = serializers.ListField(child=serializers.CharField(), read_only=True)
    arguments = ArgumentOutput(many=True, read_only=True)
    not_stated = serializers.ListField(child=serializers.CharField(), read_only=True, help_text=NOT_STATED_HELP)

    class Meta:
        model = Event
        fields = [
            "id",
            "event_type",
            "trigger_start",
            "trigger_end",
            "trigger_text",
            "mode",
            "realis",
            "contexts",
            "score",
            "arguments",
            "not_stated",
            "provenance",
            "created_at",
        ]
        read_only_fields = fields


class StanceOutput(serializers.ModelSerializer):
    target_actor_name = serializers.CharField(source="target_actor.name", read_only=True, allow_null=True)

    class Meta:
        model = Stance
        fields = [
            "id",
            "label",
            "holder",
            "target",
            "target_actor",
            "target_actor_name",
            "scope",
            "evidence_start",
            "evidence_end",
            "evidence_text",
            "score",
            "provenance",
            "created_at",
        ]
        read_only_fields = fields


class LayerDetailOutput(LayerOutput):
    """A layer with every item. The fields document `annotations.selectors.layer_detail`, which builds
    it, so the API and the workspace pages show a layer alike."""

    mentions = MentionOutput(many=True, read_only=True)
    events = EventOutput(many=True, read_only=True)
    stances = StanceOutput(many=True, read_only=True)

    class Meta(LayerOutput.Meta):
        fields = [*LayerOutput.Meta.fields, "mentions", "events", "stances"]
        read_only_fields = fields

    def to_representation(self, instance: Layer) -> dict[str, Any]:
        return layer_detail(instance)


class LayerCreateInput(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=[Layer.Kind.ANNOTATOR.value, Layer.Kind.GOLD.value],
        required=False,
        help_text="annotator: your own layer; gold: the article's gold layer (reviewers and managers). "
        "Default: gold for reviewers and managers, annotator otherwise.",
    )


class LayerStatusInput(serializers.Serializer):
    version = version_field()
    status = serializers.ChoiceField(choices=Layer.Status.choices)


# --- Mentions, events, stances: inputs and write outputs -----------------------------------


class LayerVersionOutput(serializers.Serializer):
    layer_version = serializers.IntegerField(read_only=True, help_text="The layer's version after the write.")


class MentionWriteOutput(MentionOutput):
    layer_version = serializers.IntegerField(source="layer.version", read_only=True, help_text=VERSION_HELP)

    class Meta(MentionOutput.Meta):
        fields = [*MentionOutput.Meta.fields, "layer_version"]
        read_only_fields = fields


class EventWriteOutput(EventOutput):
    layer_version = serializers.IntegerField(source="layer.version", read_only=True)

    class Meta(EventOutput.Meta):
        fields = [*EventOutput.Meta.fields, "layer_version"]
        read_only_fields = fields


class StanceWriteOutput(StanceOutput):
    layer_version = serializers.IntegerField(source="layer.version", read_only=True)

    class Meta(StanceOutput.Meta):
        fields = [*StanceOutput.Meta.fields, "layer_version"]
        read_only_fields = fields


class VersionInput(serializers.Serializer):
    version = version_field()


class MentionCreateInput(serializers.Serializer):
    version = version_field()
    label = serializers.CharField(  # type: ignore[assignment]  # a declared field, not Field.label
        help_text="An entity type code of the project's schema."
    )
    start = serializers.IntegerField(help_text="Offset of the first character, 0-based.")
    end = serializers.IntegerField(help_text="Offset after the last character ([start, end)).")
    text = quoted_text_field("The quoted text; when given it must equal article.text[start:end].")
    actor = serializers.PrimaryKeyRelatedField(queryset=Actor.objects.all(), required=False, allow_null=True)


class MentionUpdateInput(serializers.Serializer):
    version = version_field()
    label = serializers.CharField(  # type: ignore[assignment]  # a declared field, not Field.label
        required=False
    )
    start = serializers.IntegerField(required=False)
    end = serializers.IntegerField(required=False)
    text = quoted_text_field("The quoted text of the new span, checked against the article.")
    actor = serializers.PrimaryKeyRelatedField(queryset=Actor.objects.all(), required=False, allow_null=True)


class ArgumentInput(serializers.Serializer):
    role = serializers.CharField(help_text="A role of the event type (actor, recipient, place, …).")
    mention = serializers.IntegerField(help_text="Id of a mention of the same layer.")


class EventCreateInput(serializers.Serializer):
    version = version_field()
    event_type = serializers.CharField()
    trigger_start = serializers.IntegerField()
    trigger_end = serializers.IntegerField()
    trigger_text = quoted_text_field("The quoted trigger; when given it must equal the article text there.")
    mode = serializers.CharField(required=False, allow_blank=True, default="")
    realis = serializers.CharField(required=False, default="actual")
    contexts = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    arguments = ArgumentInput(many=True, required=False, default=list)
    not_stated = serializers.ListField(
        child=serializers.CharField(), required=False, default=list, help_text=NOT_STATED_HELP
    )


class EventUpdateInput(serializers.Serializer):
    version = version_field()
    event_type = serializers.CharField(required=False)
    mode = serializers.CharField(required=False, allow_blank=True)
    realis = serializers.CharField(required=False)
    contexts = serializers.ListField(child=serializers.CharField(), required=False)
    arguments = ArgumentInput(many=True, required=False, help_text="When given, replaces every argument.")
    not_stated = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text=f"{NOT_STATED_HELP} When given, replaces the list; when left out, a role given an argument "
        "leaves it.",
    )


class StanceCreateInput(serializers.Serializer):
    version = version_field()
    label = serializers.CharField(  # type: ignore[assignment]  # a declared field, not Field.label
        help_text="A stance label of the schema (FAVOR, AGAINST, NONE)."
    )
    holder = serializers.IntegerField(
        required=False, allow_null=True, help_text="Mention id; null means the author / outlet."
    )
    target = serializers.IntegerField(required=False, allow_null=True, help_text="Mention id (or give target_actor).")
    target_actor = serializers.PrimaryKeyRelatedField(queryset=Actor.objects.all(), required=False, allow_null=True)
    scope = serializers.CharField(required=False, default=Stance.Scope.SENTENCE, help_text="sentence or document")
    evidence_start = serializers.IntegerField(required=False, allow_null=True)
    evidence_end = serializers.IntegerField(required=False, allow_null=True)
    evidence_text = quoted_text_field("The quoted evidence; when given it must equal the article text there.")


class StanceUpdateInput(serializers.Serializer):
    version = version_field()
    label = serializers.CharField(  # type: ignore[assignment]  # a declared field, not Field.label
        required=False
    )
    holder = serializers.IntegerField(required=False, allow_null=True)
    target = serializers.IntegerField(required=False, allow_null=True)
    target_actor = serializers.PrimaryKeyRelatedField(queryset=Actor.objects.all(), required=False, allow_null=True)
    scope = serializers.CharField(required=False)
    evidence_start = serializers.IntegerField(required=False, allow_null=True)
    evidence_end = serializers.IntegerField(required=False, allow_null=True)
    evidence_text = quoted_text_field("The quoted evidence of the new span.")
