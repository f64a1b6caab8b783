"""Articles with their stage and the layers you may read; the JSON Lines import."""

from __future__ import annotations

from rest_framework import serializers

from annotations.json_limits import JSONTooDeep, json_loads_bounded
from annotations.models import Article
from api.serializers.events import ArticleCheckOutput
from api.serializers.layers import LayerOutput


class ArticleOutput(serializers.ModelSerializer):
    has_gold = serializers.BooleanField(read_only=True, help_text="The article has a gold layer.")
    stage = serializers.CharField(
        read_only=True,
        help_text="unassigned (no annotator layer), assigned, annotated (at least overlap k annotator layers done) "
        "or adjudicated (the gold layer is).",
    )
    layers = LayerOutput(source="visible_layers", many=True, read_only=True, help_text="The layers you may read.")
    # A plain string: often empty, which a `format: uri` would call invalid.
    url = serializers.CharField(read_only=True, help_text="Where the article was published, or empty.")
    source_check = ArticleCheckOutput(
        read_only=True,
        allow_null=True,
        help_text="The publication date check (published_suspect + reason, a reviewer's decision and its version) "
        "and the source reliability flag; null: not checked, not flagged.",
    )

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
            "source_check",
        ]
        read_only_fields = fields


class ArticleDetailOutput(ArticleOutput):
    class Meta(ArticleOutput.Meta):
        fields = [*ArticleOutput.Meta.fields, "text", "metadata", "content_hash", "imported_from"]
        read_only_fields = fields


ANNOTATED_FORMATS = ("jsonl", "brat", "doccano", "labelstudio")


class ArticleImportInput(serializers.Serializer):
    file = serializers.FileField(
        help_text="A JSON Lines file: one article per line (title, text, source, …); with `annotations`, an "
        "annotated file in `format` (brat: a .zip of .txt + .ann files)."
    )


class AnnotatedImportOptions(serializers.Serializer):
    """The annotated import's options (query parameters or form fields of the import)."""

    annotations = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Import annotations into this layer: gold, machine:<version> or annotator:<username> (a member "
        "of the project). Without it the file is plain articles.",
    )
    format = serializers.ChoiceField(
        choices=list(ANNOTATED_FORMATS),
        required=False,
        allow_blank=True,
        default="",
        help_text="jsonl (native export lines), brat (a .zip of .txt + .ann), doccano (JSONL), labelstudio "
        "(JSON export). Default: told from the file name.",
    )
    label_map = serializers.CharField(  # a form field or query parameter: the JSON text
        required=False,
        allow_blank=True,
        default=None,
        trim_whitespace=False,
        help_text='Their labels to ours, a JSON object such as {"Country": "GPE", "agent": "actor"}.',
    )

    def validate_label_map(self, text: str | None) -> dict[str, str] | None:
        if text is None or text == "":
            return None
        try:
            value = json_loads_bounded(text)
        except JSONTooDeep as exc:
            raise serializers.ValidationError(f"is {exc}") from None
        except ValueError:
            raise serializers.ValidationError("Value must be valid JSON.") from None
        if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            raise serializers.ValidationError('is not a JSON object of label names, such as {"Country": "GPE"}')
        return value


class AnnotatedImportOutput(serializers.Serializer):
    layer = serializers.CharField(read_only=True, help_text="The layer written: gold, machine:…, annotator:….")
    imported = serializers.IntegerField(read_only=True, help_text="Articles annotated.")
    duplicates = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="Titles skipped: already in the project with that layer annotated, or a duplicate text.",
    )
    mentions = serializers.IntegerField(read_only=True)
    events = serializers.IntegerField(read_only=True)
    arguments = serializers.IntegerField(read_only=True)
    stances = serializers.IntegerField(read_only=True)
    warnings = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text="What the reader skipped."
    )


class ArticleImportOutput(serializers.Serializer):
    imported = serializers.IntegerField(read_only=True)
    articles = serializers.ListField(child=serializers.IntegerField(), read_only=True, help_text="New article ids.")
    duplicates = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text="Titles skipped as exact duplicates."
    )
