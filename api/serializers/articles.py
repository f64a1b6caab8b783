"""Articles with their stage and the layers you may read; the JSON Lines import."""

from __future__ import annotations

from rest_framework import serializers

from annotations.models import Article
from api.serializers.layers import LayerOutput


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
