"""The export options, and dataset versions (immutable stored exports)."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from annotations.exports.base import OVERLAP_RULES
from annotations.exports.catalog import FORMATS
from annotations.exports.selection import LAYER_SELECTOR_HELP
from annotations.models import DatasetVersion

FORMAT_HELP = "One of: " + ", ".join(f"{name} ({f.description})" for name, f in FORMATS.items())


# What an export answers with: each format's own type, or a zip of several files.
EXPORT_MEDIA_TYPES = sorted({f.media_type for f in FORMATS.values()} | {"application/zip"})


@extend_schema_field({"type": "string", "enum": list(FORMATS)})
class FormatField(serializers.CharField):
    """A format of the catalog: an enum in the schema; an unknown one is a 400 listing them."""


class ExportQuery(serializers.Serializer):
    """The export options (query parameters of the export; fields of a dataset version)."""

    format = FormatField(
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
        help_text="Only articles whose selected layer changed (an item written, corrected or removed, a status "
        "set, an adjudication) after this ISO date/time. A JSONL export then ends with a tombstone line "
        '`{"at": ISO, "deleted": true, "key": article key}` per article that left the selection since (deleted, '
        "or its layer no longer passes `status`). Pass the previous response's X-Export-Until.",
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

    seed = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Seed of the story-to-split assignment (default 0: each story key's own hash).",
    )
    overlap = serializers.ChoiceField(
        choices=list(OVERLAP_RULES),
        required=False,
        default="longest",
        help_text="Which of overlapping mentions CoNLL, HF and spaCy's doc.ents keep: longest (default), first, "
        "or label-priority (the entity type listed first in the schema).",
    )
    language = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        default=None,
        help_text="Only articles in this language: an ISO 639-1 code (en, fr), und (undetermined) or all "
        "(default). Token formats tokenise each article with its own language's tokenizer either way.",
    )
    strict = serializers.BooleanField(
        required=False,
        default=False,
        help_text="true: a requested split that would come back empty is a 409 (nothing exported); "
        "false (default): a warning (X-Export-Warning header, the manifest's warnings).",
    )


class ExportStreamQuery(ExportQuery):
    """The options of a streamed export: the export options and the event formats' filters."""

    clusters = serializers.ChoiceField(
        choices=["confirmed", "all"],
        required=False,
        default=None,
        allow_null=True,
        help_text="events, events-csv: confirmed (default) clusters only, or all (proposed clusters and events "
        "in no cluster too).",
    )
    sources = serializers.ChoiceField(
        choices=["all", "reliable"],
        required=False,
        default=None,
        allow_null=True,
        help_text="reliable: leave out articles whose source a reviewer flagged (machine-spun, unreliable, "
        "translation); default reliable for events and events-csv, all for the other formats.",
    )


class DatasetVersionCreateInput(ExportQuery):
    name = serializers.CharField(max_length=100, help_text="Unique in the project; a version is never changed.")
    changes = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Also store the project's change log up to the export (params.changes: file, sha256, count).",
    )


class DatasetCounts(serializers.Serializer):
    articles = serializers.IntegerField()
    mentions = serializers.IntegerField()
    events = serializers.IntegerField()
    arguments = serializers.IntegerField()
    stances = serializers.IntegerField()
    splits = serializers.DictField(child=serializers.IntegerField(), help_text="Articles per split.")
    per_split = serializers.DictField(
        child=serializers.DictField(child=serializers.IntegerField()), required=False, help_text="Counts per split."
    )
    labels = serializers.DictField(
        child=serializers.DictField(child=serializers.IntegerField()),
        required=False,
        help_text="Per kind (mentions, events, roles, stances): count per label.",
    )
    languages = serializers.DictField(child=serializers.IntegerField(), required=False)
    split_assignment = serializers.DictField(required=False, help_text="Ratios, seed, stories and articles per split.")
    dropped = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        help_text="What this format left out or changed: {what, count, reason, summary} (differs per format).",
    )
    warnings = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="E.g. a requested split left empty."
    )


class DatasetVersionOutput(serializers.ModelSerializer):
    counts = DatasetCounts(read_only=True, help_text="The export's manifest for this format.")
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
