"""A layer's change log (history) and undoing one change."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from annotations.models import Change
from api.serializers.base import version_field


class ChangeOutput(serializers.ModelSerializer):
    user = serializers.SerializerMethodField(help_text="Username of who made the change (null: a command or job).")
    before = serializers.JSONField(help_text="The item before the change (null for a create); status: {status}.")
    after = serializers.JSONField(help_text="The item after the change (null for a delete); status: {status}.")
    undoes = serializers.IntegerField(source="undoes_id", allow_null=True, help_text="The change this one undid.")
    undone_by = serializers.SerializerMethodField(help_text="The first change that undid this one, if any.")

    class Meta:
        model = Change
        fields = [
            "id",
            "created_at",
            "user",
            "path",
            "action",
            "item_kind",
            "item_id",
            "before",
            "after",
            "layer_version",
            "undoes",
            "undone_by",
        ]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_user(self, change: Change) -> str | None:
        return change.user.get_username() if change.user is not None else None

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_undone_by(self, change: Change) -> int | None:
        value = getattr(change, "undone_by_id", None)
        return int(value) if value is not None else None


class HistoryOutput(serializers.Serializer):
    layer_version = serializers.IntegerField(help_text="The layer's current version.")
    results = ChangeOutput(many=True, help_text="The newest changes first.")


class UndoInput(serializers.Serializer):
    version = version_field()


class UndoOutput(serializers.Serializer):
    layer_version = serializers.IntegerField(help_text="The layer's version after the undo.")
    changes = ChangeOutput(many=True, help_text="The changes the undo recorded (each with `undoes`).")
