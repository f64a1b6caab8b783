"""Accepting or rejecting machine suggestions into a layer you may write."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.models import SuggestionDecision
from annotations.services.suggestions import SuggestionRef, suggestions_bulk_decide, suggestions_decide
from api.permissions import check_layer_write
from api.serializers.suggestions import SuggestionDecisionInput, SuggestionDecisionsOutput
from api.views.base import LAYER_ID, SLUG, ProjectScopedMixin, error_responses, layer_in, validated


class SuggestionDecisionView(ProjectScopedMixin, APIView):
    """Accept or reject machine suggestions for a layer you may write; each one is recorded."""

    decision: str

    def post(self, request: Request, slug: str, pk: int) -> Response:
        project = self.get_project()
        layer = layer_in(project, pk)
        check_layer_write(request, project, layer)
        data = validated(SuggestionDecisionInput, request.data)
        if data.get("items"):
            result = suggestions_decide(
                layer=layer,
                user=self.user,
                decision=self.decision,
                items=[SuggestionRef(item["kind"], item["id"]) for item in data["items"]],
                model_version=data.get("model_version"),
                expected_version=data["version"],
            )
        else:
            result = suggestions_bulk_decide(
                layer=layer,
                user=self.user,
                decision=self.decision,
                kind=data.get("kind"),
                label=data.get("label"),
                model_version=data.get("model_version"),
                expected_version=data["version"],
            )
        body = {"layer_version": result.layer.version, "decisions": result.decisions}
        return Response(SuggestionDecisionsOutput(body).data)


SUGGESTION_DESCRIPTION = (
    "`{id}` is the layer that takes the decision (your annotator layer, or gold). Name suggestions by "
    "`items` [{kind, id}] (machine items of the same article), or in bulk by `kind` (and `label`), or "
    "`all: true` (bulk decisions skip suggestions this layer already decided). Every decision is "
    "recorded as a learning record with a snapshot of the suggestion."
)


class SuggestionAcceptView(SuggestionDecisionView):
    decision = SuggestionDecision.Decision.ACCEPT

    @extend_schema(
        summary="Accept suggestions: copy machine items into the layer",
        description=SUGGESTION_DESCRIPTION
        + " Accepting copies through the annotation services (checked against the schema); an event "
        "brings its argument mentions and a stance its holder and target, reusing an identical mention "
        "already in the layer; an item the layer already holds (same span and label; for an event, type, "
        "trigger and arguments) is not doubled, and the decision's result_id names it. Into a gold "
        "layer, each copy records its provenance: strategy accepted, the model version, the reviewer, "
        "the time.",
        parameters=[SLUG, LAYER_ID],
        request=SuggestionDecisionInput,
        responses={200: SuggestionDecisionsOutput, **error_responses(400, 403, 409)},
    )
    def post(self, request: Request, slug: str, pk: int) -> Response:
        return super().post(request, slug, pk)


class SuggestionRejectView(SuggestionDecisionView):
    decision = SuggestionDecision.Decision.REJECT

    @extend_schema(
        summary="Reject suggestions (recorded; the layer's annotations are unchanged)",
        description=SUGGESTION_DESCRIPTION,
        parameters=[SLUG, LAYER_ID],
        request=SuggestionDecisionInput,
        responses={200: SuggestionDecisionsOutput, **error_responses(400, 403, 409)},
    )
    def post(self, request: Request, slug: str, pk: int) -> Response:
        return super().post(request, slug, pk)
