"""Input and output serializers, kept apart: inputs check shapes and types, services check meaning.

Inputs only parse a request body (types, required fields); every rule about the article text or
the label schema is checked by the services, whose errors name the field too. Outputs are
read-only and expect their related rows to be loaded already (select/prefetch in the view).
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from annotations.exporting import FORMATS
from annotations.exports.selection import LAYER_SELECTOR_HELP
from annotations.models import (
    Actor,
    Article,
    DatasetVersion,
    Event,
    EventArgument,
    Job,
    Layer,
    Mention,
    Project,
    Stance,
    SuggestionDecision,
)

VERSION_HELP = "The layer version you read (from the layer or the last write). A stale version answers 409."


def version_field(required: bool = True) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, required=required, help_text=VERSION_HELP)


def quoted_text_field(help_text: str) -> serializers.CharField:
    # No trimming: the quote is compared with the article text character for character.
    return serializers.CharField(required=False, trim_whitespace=False, help_text=help_text)


# --- Projects -------------------------------------------------------------------------------


class ProjectOutput(serializers.ModelSerializer):
    role = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="Your role in the project: manager, annotator, reviewer or consumer (superusers: manager).",
    )
    article_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Project
        fields = [
            "slug",
            "name",
            "description",
            "role",
            "article_count",
            "schema_version",
            "overlap",
            "merge_strategy",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ProjectDetailOutput(ProjectOutput):
    class Meta(ProjectOutput.Meta):
        fields = [*ProjectOutput.Meta.fields, "label_schema", "guidelines"]
        read_only_fields = fields


# --- Layers ---------------------------------------------------------------------------------


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


class ArgumentOutput(serializers.ModelSerializer):
    class Meta:
        model = EventArgument
        fields = ["id", "role", "mention"]
        read_only_fields = fields


class EventOutput(serializers.ModelSerializer):
    contexts = serializers.ListField(child=serializers.CharField(), read_only=True)
    arguments = ArgumentOutput(many=True, read_only=True)

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
    mentions = MentionOutput(many=True, read_only=True)
    events = EventOutput(many=True, read_only=True)
    stances = StanceOutput(many=True, read_only=True)

    class Meta(LayerOutput.Meta):
        fields = [*LayerOutput.Meta.fields, "mentions", "events", "stances"]
        read_only_fields = fields


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
    label = serializers.CharField(help_text="An entity type code of the project's schema.")
    start = serializers.IntegerField(help_text="Offset of the first character, 0-based.")
    end = serializers.IntegerField(help_text="Offset after the last character ([start, end)).")
    text = quoted_text_field("The quoted text; when given it must equal article.text[start:end].")
    actor = serializers.PrimaryKeyRelatedField(queryset=Actor.objects.all(), required=False, allow_null=True)


class MentionUpdateInput(serializers.Serializer):
    version = version_field()
    label = serializers.CharField(required=False)
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


class EventUpdateInput(serializers.Serializer):
    version = version_field()
    event_type = serializers.CharField(required=False)
    mode = serializers.CharField(required=False, allow_blank=True)
    realis = serializers.CharField(required=False)
    contexts = serializers.ListField(child=serializers.CharField(), required=False)
    arguments = ArgumentInput(many=True, required=False, help_text="When given, replaces every argument.")


class StanceCreateInput(serializers.Serializer):
    version = version_field()
    label = serializers.CharField(help_text="A stance label of the schema (FAVOR, AGAINST, NONE).")
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
    label = serializers.CharField(required=False)
    holder = serializers.IntegerField(required=False, allow_null=True)
    target = serializers.IntegerField(required=False, allow_null=True)
    target_actor = serializers.PrimaryKeyRelatedField(queryset=Actor.objects.all(), required=False, allow_null=True)
    scope = serializers.CharField(required=False)
    evidence_start = serializers.IntegerField(required=False, allow_null=True)
    evidence_end = serializers.IntegerField(required=False, allow_null=True)
    evidence_text = quoted_text_field("The quoted evidence of the new span.")


# --- Suggestions ----------------------------------------------------------------------------

ITEM_KINDS = SuggestionDecision.ItemKind.choices


class SuggestionItemInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ITEM_KINDS)
    id = serializers.IntegerField(help_text="Id of the machine mention, event or stance.")


class SuggestionDecisionInput(serializers.Serializer):
    """Name the suggestions: `items`, or `kind` (and `label`) for every one of a kind, or `all`."""

    version = version_field()
    model_version = serializers.CharField(
        required=False, help_text="Machine layer to take suggestions from; default: the article's most recent."
    )
    items = SuggestionItemInput(many=True, required=False, allow_empty=False)
    kind = serializers.ChoiceField(choices=ITEM_KINDS, required=False, help_text="Bulk: every suggestion of a kind.")
    label = serializers.CharField(
        required=False, help_text="Bulk: only this label (entity type, event type or stance label); needs kind."
    )
    all = serializers.BooleanField(required=False, default=False, help_text="Bulk: every undecided suggestion.")

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        modes = [bool(data.get("items")), "kind" in data or "label" in data, bool(data.get("all"))]
        if sum(modes) != 1:
            raise serializers.ValidationError(
                {"items": ["give either items, or kind (and label) for a bulk decision, or all: true"]}
            )
        if "label" in data and "kind" not in data:
            raise serializers.ValidationError({"kind": ["a bulk decision by label needs the kind"]})
        return data


class SuggestionDecisionOutput(serializers.ModelSerializer):
    class Meta:
        model = SuggestionDecision
        fields = [
            "id",
            "item_kind",
            "decision",
            "model_version",
            "suggestion_id",
            "label",
            "result_id",
            "suggestion",
            "created_at",
        ]
        read_only_fields = fields


class SuggestionDecisionsOutput(serializers.Serializer):
    layer_version = serializers.IntegerField(read_only=True)
    decisions = SuggestionDecisionOutput(many=True, read_only=True)


# --- Articles -------------------------------------------------------------------------------


class ArticleOutput(serializers.ModelSerializer):
    has_gold = serializers.BooleanField(read_only=True, help_text="The article has a gold layer.")
    stage = serializers.CharField(
        read_only=True,
        help_text="unassigned (no annotator layer), assigned, annotated (at least overlap k annotator layers done) "
        "or adjudicated (the gold layer is).",
    )
    layers = LayerOutput(source="visible_layers", many=True, read_only=True, help_text="The layers you may read.")

    class Meta:
        model = Article
        fields = [
            "id",
            "title",
            "source",
            "url",
            "published",
            "language",
            "created_at",
            "has_gold",
            "stage",
            "layers",
        ]
        read_only_fields = fields


class ArticleDetailOutput(ArticleOutput):
    class Meta(ArticleOutput.Meta):
        fields = [*ArticleOutput.Meta.fields, "text", "metadata", "content_hash", "imported_from"]
        read_only_fields = fields


class ArticleImportInput(serializers.Serializer):
    file = serializers.FileField(help_text="A JSON Lines file: one article per line (title, text, source, …).")


class ArticleImportOutput(serializers.Serializer):
    imported = serializers.IntegerField(read_only=True)
    articles = serializers.ListField(child=serializers.IntegerField(), read_only=True, help_text="New article ids.")
    duplicates = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text="Titles skipped as exact duplicates."
    )


# --- Jobs -----------------------------------------------------------------------------------


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


# --- Exports and dataset versions -----------------------------------------------------------

FORMAT_HELP = "One of: " + ", ".join(f"{name} ({f.description})" for name, f in FORMATS.items())


class ExportQuery(serializers.Serializer):
    """The export options (query parameters of the export; fields of a dataset version)."""

    format = serializers.CharField(
        help_text=FORMAT_HELP,
        error_messages={
            "required": f"is required; formats: {', '.join(FORMATS)}",
            "blank": f"is empty; formats: {', '.join(FORMATS)}",
        },
    )
    layer = serializers.CharField(required=False, default="gold", help_text=f"Layer to export: {LAYER_SELECTOR_HELP}.")
    split = serializers.CharField(
        required=False, default="all", help_text="train, dev, test, a comma-separated list, or all."
    )
    ratios = serializers.CharField(required=False, default="0.8,0.1,0.1", help_text="train,dev,test ratios.")
    since = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        default=None,
        help_text="Only articles created after this ISO date/time.",
    )
    status = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        default=None,
        help_text="Only layers in these statuses (comma-separated: not_started, in_progress, done, adjudicated), "
        "or all. Default: adjudicated for layer=gold (only adjudicated gold layers are exported), any status for "
        "annotator and machine layers.",
    )


class DatasetVersionCreateInput(ExportQuery):
    name = serializers.CharField(max_length=100, help_text="Unique in the project; a version is never changed.")


class DatasetCounts(serializers.Serializer):
    articles = serializers.IntegerField()
    mentions = serializers.IntegerField()
    events = serializers.IntegerField()
    arguments = serializers.IntegerField()
    stances = serializers.IntegerField()
    splits = serializers.DictField(child=serializers.IntegerField(), help_text="Articles per split.")


class DatasetVersionOutput(serializers.ModelSerializer):
    counts = DatasetCounts(read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True, allow_null=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = DatasetVersion
        fields = [
            "id",
            "name",
            "format",
            "params",
            "counts",
            "sha256",
            "size",
            "created_by",
            "created_at",
            "download_url",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.URLField())
    def get_download_url(self, version: DatasetVersion) -> str:
        path = reverse("api:dataset-version-download", kwargs={"slug": self.context["slug"], "pk": version.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path
