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
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.models import Article, Layer
from annotations.review import KINDS
from annotations.selectors import filter_stage, review_of
from annotations.services.gold import PickResult, gold_merge, gold_pick, gold_promote
from api.permissions import CAN_READ_ALL_LAYERS, CAN_WRITE_GOLD, check_layer_write, require_role
from api.serializers.review import (
    MergeInput,
    MergeOutput,
    PickInput,
    PickOutput,
    PromoteInput,
    PromoteOutput,
    ReviewOutput,
)
from api.views.base import ARTICLE_ID, LAYER_ID, SLUG, ProjectScopedMixin, error_responses, layer_in, validated


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
            reviewer=self.user,
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
        result = gold_merge(gold=gold, strategy=data["strategy"], reviewer=self.user, expected_version=data["version"])
        return Response(
            {
                "layer_version": result.layer_version,
                "strategy": data["strategy"],
                "created": {f"{kind}s": result.count(kind) for kind in KINDS},
                "items": _refs(result.created),
            }
        )


class GoldPromoteView(ProjectScopedMixin, APIView):
    @extend_schema(
        summary="Promote a machine layer to gold (bootstrap a gold set to review)",
        description="Copies the machine layer of a model version into the gold layer of each selected article "
        "(all by default), with provenance `promoted`. Events that lack a required role are left out, or with "
        "`not_stated_missing` kept with the role marked not stated. Adjudicated gold is skipped and reported; "
        "each article is its own transaction. Managers and reviewers.",
        parameters=[SLUG],
        request=PromoteInput,
        responses={200: PromoteOutput, **error_responses(400, 403)},
    )
    def post(self, request: Request, slug: str) -> Response:
        project = self.get_project()
        require_role(request, project, CAN_WRITE_GOLD, "Promoting to gold")
        data = validated(PromoteInput, request.data)
        articles = project.articles.all()
        if "articles" in data:
            articles = articles.filter(pk__in=data["articles"])
        if "stage" in data:
            articles = filter_stage(articles, data["stage"])
        layer = data["layer"]
        result = gold_promote(
            project=project,
            model_version=None if layer == "machine:latest" else layer.removeprefix("machine:"),
            articles=articles,
            not_stated_missing=data["not_stated_missing"],
            by=self.user,
        )
        return Response(PromoteOutput(result.as_json()).data)
