"""The deleted feed: layers removed from the project, for incremental sync."""

from __future__ import annotations

from rest_framework import serializers

from annotations.exports.selection import LAYER_SELECTOR_HELP
from annotations.models import Deletion


class DeletionQuery(serializers.Serializer):
    since = serializers.CharField(
        required=False,
        allow_blank=True,
        default=None,
        allow_null=True,
        help_text="Only deletions after this ISO date/time (the previous export's X-Export-Until).",
    )
    layer = serializers.CharField(
        required=False,
        allow_blank=True,
        default=None,
        allow_null=True,
        help_text=f"Only deletions of this layer: {LAYER_SELECTOR_HELP}. Default: every layer.",
    )


class DeletionOutput(serializers.ModelSerializer):
    key = serializers.CharField(help_text="The article's key in exports (its content hash, the JSONL `id`).")
    deleted = serializers.SerializerMethodField(help_text="Always true, as in a JSONL tombstone line.")
    layer = serializers.SerializerMethodField(help_text="The deleted layer as a selector: gold, annotator:NAME, …")
    what = serializers.CharField(help_text="article (deleted with its article) or layer (only the layer).")

    class Meta:
        model = Deletion
        fields = ["key", "deleted", "at", "layer", "what"]
        read_only_fields = fields

    def get_deleted(self, deletion: Deletion) -> bool:
        return True

    def get_layer(self, deletion: Deletion) -> str:
        if deletion.kind == "annotator":
            name = deletion.annotator.get_username() if deletion.annotator is not None else "?"
            return f"annotator:{name}"
        if deletion.kind == "machine":
            return f"machine:{deletion.model_version}"
        return deletion.kind
