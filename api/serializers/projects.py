"""Projects: the list shows your role, the detail adds the label schema and guidelines."""

from __future__ import annotations

from rest_framework import serializers

from annotations.models import Project


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
