"""Accepting or rejecting machine suggestions: which ones (input), the recorded decisions (output)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from annotations.models import SuggestionDecision
from api.serializers.base import version_field

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
    label = serializers.CharField(  # type: ignore[assignment]  # a declared field, not Field.label
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
