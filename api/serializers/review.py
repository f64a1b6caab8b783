"""Review and adjudication: an article's annotator versions compared, picks and merges into gold."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from annotations.review import KINDS, MERGE_STRATEGIES


class PickItemInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=KINDS)
    id = serializers.IntegerField(help_text="The id of the item in an annotator layer of the same article.")


class PickInput(serializers.Serializer):
    version = serializers.IntegerField(help_text="The gold layer version you read.")
    # What `PickItemInput(many=True, allow_empty=False, max_length=1000)` builds, spelled out: the
    # stubs do not know that `many=True` passes max_length on to the list.
    items: serializers.ListSerializer[Any] = serializers.ListSerializer(
        child=PickItemInput(), allow_empty=False, max_length=1000
    )


class MergeInput(serializers.Serializer):
    version = serializers.IntegerField(help_text="The gold layer version you read.")
    strategy = serializers.ChoiceField(
        choices=MERGE_STRATEGIES,
        help_text="unanimous: items every compared annotator gave; majority: items more than half gave; "
        "none: nothing (manual adjudication).",
    )


class ItemRefOutput(serializers.Serializer):
    kind = serializers.CharField()
    id = serializers.IntegerField()


class PickOutput(serializers.Serializer):
    layer_version = serializers.IntegerField()
    created = ItemRefOutput(many=True, help_text="Gold items created (argument, holder, target mentions too).")
    existing = ItemRefOutput(many=True, help_text="Picked items gold already had: nothing was added for them.")


class MergeCountsOutput(serializers.Serializer):
    mentions = serializers.IntegerField()
    events = serializers.IntegerField()
    stances = serializers.IntegerField()


class MergeOutput(serializers.Serializer):
    layer_version = serializers.IntegerField()
    strategy = serializers.CharField()
    created = MergeCountsOutput()
    items = ItemRefOutput(many=True, help_text="The gold items created (to show or undo them).")


class ReviewAnnotatorOutput(serializers.Serializer):
    username = serializers.CharField()
    layer = serializers.IntegerField()
    status = serializers.CharField()
    version = serializers.IntegerField()


class ReviewGoldOutput(serializers.Serializer):
    id = serializers.IntegerField()
    version = serializers.IntegerField()
    status = serializers.CharField()
    adjudicated_by = serializers.CharField(allow_null=True)
    adjudicated_at = serializers.DateTimeField(allow_null=True)


class GroupOutput(serializers.Serializer):
    key = serializers.CharField(help_text="What makes this version distinct (span + label, …).")
    annotators = serializers.ListField(child=serializers.CharField(), help_text="Who gave this version.")
    items = serializers.DictField(child=serializers.IntegerField(), help_text="Username → their item's id (to pick).")
    support = serializers.IntegerField()
    of = serializers.IntegerField(help_text="Annotator layers compared.")
    agreement = serializers.ChoiceField(choices=["unanimous", "majority", "minority"])
    disagreements = serializers.ListField(
        child=serializers.CharField(),
        help_text="Why to look: label, boundary, missing (mentions); type, arguments, missing (events); "
        "label, missing (stances).",
    )
    gold = serializers.IntegerField(allow_null=True, help_text="The equal gold item's id, if gold has it.")


class ReviewOutput(serializers.Serializer):
    article = serializers.DictField()
    stage = serializers.CharField()
    overlap = serializers.IntegerField()
    annotators = ReviewAnnotatorOutput(many=True)
    gold = ReviewGoldOutput(allow_null=True)
    groups = serializers.DictField(
        child=GroupOutput(many=True),
        help_text="mentions, events and stances: each group with the item's own fields (span, label, "
        "trigger, arguments, holder, target …) next to these.",
    )
    summary = serializers.DictField()


class PromoteInput(serializers.Serializer):
    layer = serializers.RegexField(
        r"^machine:.+$",
        default="machine:latest",
        help_text="machine:latest (the project's newest model version) or machine:VERSION.",
    )
    articles = serializers.ListField(
        child=serializers.IntegerField(), required=False, max_length=100_000, help_text="Article ids (default: all)."
    )
    stage = serializers.ChoiceField(
        choices=["unassigned", "assigned", "annotated", "adjudicated"], required=False, help_text="Only these."
    )
    not_stated_missing = serializers.BooleanField(
        default=False,
        help_text="Keep events that lack a required role, marking the role 'not stated in the text' "
        "(default: leave them out).",
    )


class PromoteOutput(serializers.Serializer):
    model_version = serializers.CharField()
    promoted = serializers.IntegerField(help_text="Articles whose gold got the machine layer's items.")
    articles = serializers.ListField(child=serializers.IntegerField())
    skipped = serializers.DictField(
        child=serializers.ListField(child=serializers.IntegerField()), help_text="Reason → article ids."
    )
    counts = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Items created (mentions, events, stances), events_dropped, roles_marked_not_stated.",
    )
