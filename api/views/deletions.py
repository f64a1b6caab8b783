"""The deleted feed: what left the project, for a consumer syncing with `since=`."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from annotations.models import Deletion
from annotations.selectors import deletions_since
from api.permissions import CAN_EXPORT, require_role
from api.serializers.deletions import DeletionOutput, DeletionQuery
from api.views.base import SLUG, PagePagination, ProjectScopedMixin, error_responses, validated


class DeletionListView(ProjectScopedMixin, ListAPIView):
    """Deleted layers and articles after `since` (managers, reviewers, consumers)."""

    pagination_class = PagePagination
    serializer_class = DeletionOutput

    @extend_schema(
        summary="Layers and articles deleted since a time (incremental sync)",
        description="One row per deleted layer, oldest first: drop the article of that `key` from what you "
        "exported of that layer. The same deletions end a JSONL export with `since=` as tombstone lines "
        '`{"at": …, "deleted": true, "key": …}` (which also cover layers whose status left the export\'s '
        "status filter). Managers, reviewers and consumers.",
        parameters=[SLUG, DeletionQuery],
        responses={200: DeletionOutput(many=True), **error_responses(400, 403)},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> Any:
        if self.schema_only:
            return Deletion.objects.none()
        project = self.get_project()
        require_role(self.request, project, CAN_EXPORT, "The deleted feed")
        options = validated(DeletionQuery, self.request.query_params)
        return deletions_since(project=project, since=options["since"], layer=options["layer"])
