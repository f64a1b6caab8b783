"""Review and adjudication over the API: compare an article's annotator layers, settle its gold.

Reading the comparison is for managers, reviewers and consumers (annotators: 403, they would
see each other's work); writing gold for managers and reviewers. Every gold write names the gold
layer version it read, so two reviewers settling one article at once can't both win: the second
gets 409 and nothing is lost. Marking gold adjudicated is the layer status endpoint
(`PATCH layers/<id>/ {"status": "adjudicated", "version": …}`).
"""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.models import Article, Layer
from annotations.review import KINDS, MERGE_STRATEGIES, PickResult, gold_merge, gold_pick, review_of
from api.permissions import CAN_READ_ALL_LAYERS, CAN_WRITE_GOLD, check_layer_write, require_role
from api.views.layers import ARTICLE_ID, LAYER_ID, SLUG, ProjectScopedMixin, error_responses, layer_in, validated

# --- Input and output -------------------------------------------------------------------------


class PickItemInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=KINDS)
    id = serializers.IntegerField(help_text="The id of the item in an annotator layer of the same article.")


class PickInput(serializers.Serializer):
    version = serializers.IntegerField(help_text="The gold layer version you read.")
    items = PickItemInput(many=True, allow_empty=False, max_length=1000)


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


# --- Views ------------------------------------------------------------------------------------


def _gold_for_write(request: Request, view: ProjectScopedMixin, pk: int) -> Layer:
    project = view.get_project()
    require_role(request, project, CAN_WRITE_GOLD, "Adjudicating")
    gold = layer_in(project, pk)
    check_layer_write(request, project, gold)
    return gold


def _refs(pairs: list[tuple[str, int]]) -> list[dict[str, Any]]:
    return [{"kind": kind, "id": item_id} for kind, item_id in pairs]


class ArticleReviewView(ProjectScopedMixin, APIView):
    """The annotators' versions of every item of an article, grouped, with what they disagree on."""

    @extend_schema(
        summary="Compare the annotators' layers of an article (for adjudication)",
        description="Annotator layers in progress or done are compared. Each group is one version of an "
        "item with who gave it, how many agree, why it is disputed, and whether gold has it.",
        parameters=[SLUG, ARTICLE_ID],
        responses={200: ReviewOutput, **error_responses(403)},
    )
    def get(self, request: Request, slug: str, pk: int) -> Response:
        project = self.get_project()
        require_role(request, project, CAN_READ_ALL_LAYERS, "Reviewing")
        article = get_object_or_404(Article.objects.select_related("project"), pk=pk, project=project)
        return Response(review_of(article))


class GoldPickView(ProjectScopedMixin, APIView):
    @extend_schema(
        summary="Pick annotators' items into the gold layer",
        description="Copies each named annotator item of the same article (an event with its argument mentions, "
        "a stance with its holder and target) into gold, reusing gold mentions of the same span and label, "
        "with provenance (picked, the annotators who gave that version, you, now).",
        parameters=[SLUG, LAYER_ID],
        request=PickInput,
        responses={200: PickOutput, **error_responses(400, 403, 409)},
    )
    def post(self, request: Request, slug: str, pk: int) -> Response:
        gold = _gold_for_write(request, self, pk)
        data = validated(PickInput, request.data)
        result: PickResult = gold_pick(
            gold=gold,
            items=[(item["kind"], item["id"]) for item in data["items"]],
            reviewer=request.user,
            expected_version=data["version"],
        )
        return Response(
            {
                "layer_version": result.layer_version,
                "created": _refs(result.created),
                "existing": _refs(result.existing),
            }
        )


class GoldMergeView(ProjectScopedMixin, APIView):
    @extend_schema(
        summary="Pre-fill the gold layer by a merge strategy",
        description="unanimous: every group all compared annotators gave; majority: more than half; none: nothing. "
        "Items gold already has are left as they are; each new one records the strategy as its provenance.",
        parameters=[SLUG, LAYER_ID],
        request=MergeInput,
        responses={200: MergeOutput, **error_responses(400, 403, 409)},
    )
    def post(self, request: Request, slug: str, pk: int) -> Response:
        gold = _gold_for_write(request, self, pk)
        data = validated(MergeInput, request.data)
        result = gold_merge(
            gold=gold, strategy=data["strategy"], reviewer=request.user, expected_version=data["version"]
        )
        return Response(
            {
                "layer_version": result.layer_version,
                "strategy": data["strategy"],
                "created": {f"{kind}s": result.count(kind) for kind in KINDS},
                "items": _refs(result.created),
            }
        )
