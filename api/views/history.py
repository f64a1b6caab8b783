"""A layer's change log: read the newest changes, undo one."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.models import Change, Layer, Project
from annotations.selectors import layer_history
from annotations.services.history import UndoConflict, change_undo
from api.permissions import check_layer_read, check_layer_write, project_for
from api.serializers.history import HistoryOutput, UndoInput, UndoOutput
from api.throttling import ThrottledTokenAuthentication
from api.views.base import LAYER_ID, SLUG, error_responses, layer_in, validated

HISTORY_LIMIT = 50
HISTORY_MAX = 500


class HistoryView(APIView):
    """As the other project views (`ProjectScopedMixin`): token or session, the URL's project
    resolved first (404 for non-members)."""

    authentication_classes = [ThrottledTokenAuthentication, SessionAuthentication]  # token first: 401, not 403
    permission_classes = [IsAuthenticated]

    def layer(self, request: Request, slug: str, pk: int) -> tuple[Project, Layer]:
        project = project_for(request, slug)
        return project, layer_in(project, pk)


class LayerHistoryView(HistoryView):
    @extend_schema(
        summary="The layer's newest changes (who, when, through which path, the item before and after)",
        description="Readable by whoever may read the layer.",
        parameters=[
            SLUG,
            LAYER_ID,
            OpenApiParameter(
                "limit",
                OpenApiTypes.INT,
                OpenApiParameter.QUERY,
                description=f"At most this many (default {HISTORY_LIMIT}, at most {HISTORY_MAX}).",
            ),
        ],
        responses={200: HistoryOutput, **error_responses(400, 403)},
    )
    def get(self, request: Request, slug: str, pk: int) -> Response:
        project, layer = self.layer(request, slug, pk)
        check_layer_read(request, project, layer)
        raw = request.query_params.get("limit", str(HISTORY_LIMIT))
        if not raw.isdigit() or int(raw) < 1:
            return Response(
                {"detail": "limit must be a whole number of at least 1", "errors": {"limit": [f"got {raw!r}"]}},
                status=status.HTTP_400_BAD_REQUEST,
            )
        changes = layer_history(layer=layer, limit=min(int(raw), HISTORY_MAX))
        return Response(HistoryOutput({"layer_version": layer.version, "results": changes}).data)


class ChangeUndoView(HistoryView):
    @extend_schema(
        summary="Undo one change of the layer (while nothing newer touched the same item)",
        description="A create is undone by deleting the item, a delete by creating it again (a new id), an "
        "update by restoring the item as it was, a status change by setting the status back. 409 names the "
        "newer change when one touched the same item (or the change was undone already), or the layer version "
        "when it is stale.",
        parameters=[
            SLUG,
            LAYER_ID,
            OpenApiParameter("change_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Change id."),
        ],
        request=UndoInput,
        responses={
            200: UndoOutput,
            **error_responses(400, 403),
            409: OpenApiResponse(description="A newer change touched the same item, or the version is stale."),
        },
    )
    def post(self, request: Request, slug: str, pk: int, change_id: int) -> Response:
        project, layer = self.layer(request, slug, pk)
        check_layer_write(request, project, layer)
        change = Change.objects.filter(pk=change_id, layer=layer).first()
        if change is None:
            return Response({"detail": f"no change {change_id} in layer {layer.pk}"}, status=status.HTTP_404_NOT_FOUND)
        data = validated(UndoInput, request.data)
        try:
            changes = change_undo(change=change, user=request.user, expected_version=data["version"])
        except UndoConflict as exc:
            return Response(
                {"detail": str(exc), "errors": {"change": [str(exc)]}, "newer_change": exc.newer.pk},
                status=status.HTTP_409_CONFLICT,
            )
        version = Layer.objects.values_list("version", flat=True).get(pk=layer.pk)
        return Response(UndoOutput({"layer_version": version, "changes": changes}).data)
