"""Dataset versions (immutable stored exports) and the streamed export."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.exports.runner import export_request, export_stream
from annotations.models import DatasetVersion
from annotations.services.datasets import dataset_version_create
from api.permissions import CAN_EXPORT, require_role
from api.serializers.datasets import DatasetVersionCreateInput, DatasetVersionOutput, ExportQuery
from api.views.base import SLUG, PagePagination, ProjectScopedMixin, error_responses, validated


class JSONErrorsNegotiation(BaseContentNegotiation):
    """For views that stream files: errors are JSON whatever the Accept header or `?format=` says.

    DRF would read `?format=conll` as a renderer choice (and answer 404), and an `Accept:
    application/zip` as unsatisfiable (406); here `format` is the export format.
    """

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        return next(iter(parsers), None)

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


@extend_schema_view(
    list=extend_schema(
        summary="Dataset versions of the project, newest first",
        parameters=[SLUG],
        responses={200: DatasetVersionOutput(many=True), **error_responses(403)},
    ),
    retrieve=extend_schema(
        summary="A dataset version", parameters=[SLUG], responses={200: DatasetVersionOutput, **error_responses(403)}
    ),
    create=extend_schema(
        summary="Create a dataset version: run the export to a stored file (immutable)",
        description="Stores the export with its sha256 and counts. Versions are never changed or deleted "
        "through the API (no PUT, PATCH or DELETE). Managers, reviewers and consumers.",
        parameters=[SLUG],
        request=DatasetVersionCreateInput,
        responses={201: DatasetVersionOutput, **error_responses(400, 403)},
    ),
)
class DatasetVersionViewSet(
    ProjectScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Immutable stored exports with counts and a sha256 (managers, reviewers, consumers)."""

    pagination_class = PagePagination
    serializer_class = DatasetVersionOutput

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        require_role(request, self.get_project(), CAN_EXPORT, "Dataset versions")

    def get_queryset(self) -> QuerySet[DatasetVersion]:
        if self.schema_only:
            return DatasetVersion.objects.none()
        return DatasetVersion.objects.filter(project=self.get_project()).select_related("created_by")

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "slug": self.kwargs.get("slug", "")}

    def create(self, request: Request, slug: str) -> Response:
        data = validated(DatasetVersionCreateInput, request.data)
        version = dataset_version_create(project=self.get_project(), created_by=self.user, **data)
        return Response(self.get_serializer(version).data, status=status.HTTP_201_CREATED)


class DatasetVersionDownloadView(ProjectScopedMixin, APIView):
    """The stored bytes of a dataset version."""

    content_negotiation_class = JSONErrorsNegotiation
    renderer_classes = [JSONRenderer]

    @extend_schema(
        summary="Download a dataset version's stored file (its sha256 is the ETag)",
        parameters=[
            SLUG,
            OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Dataset version id."),
        ],
        responses={
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY, "The stored export."),
            **error_responses(403),
        },
    )
    def get(self, request: Request, slug: str, pk: int) -> FileResponse:
        project = self.get_project()
        require_role(request, project, CAN_EXPORT, "Dataset versions")
        version = get_object_or_404(DatasetVersion, pk=pk, project=project)
        try:
            handle = open(version.file.path, "rb")  # noqa: SIM115 (FileResponse closes it)
        except FileNotFoundError:
            raise NotFound(f"The stored file of dataset version {version.name!r} is missing.") from None
        response = FileResponse(
            handle,
            as_attachment=True,
            filename=version.params.get("filename") or Path(version.file.name).name,
            content_type=version.params.get("media_type") or "application/octet-stream",
        )
        response["ETag"] = f'"{version.sha256}"'
        return response


class ExportView(ProjectScopedMixin, APIView):
    """The corpus streamed in one of the export formats."""

    content_negotiation_class = JSONErrorsNegotiation
    renderer_classes = [JSONRenderer]

    @extend_schema(
        summary="Stream the corpus in a training format",
        description="The same bytes as `manage.py export_corpus`, streamed with constant memory. "
        "Multi-file outputs (spacy, brat, hf; conll and dygie for several splits) are a zip. "
        "Managers, reviewers and consumers.",
        parameters=[SLUG, ExportQuery],
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY, "The export; Content-Disposition names the file."
            ),
            **error_responses(400, 403),
        },
    )
    def get(self, request: Request, slug: str) -> StreamingHttpResponse:
        project = self.get_project()
        require_role(request, project, CAN_EXPORT, "Exporting")
        export = export_request(project=project, **validated(ExportQuery, request.query_params))
        response = StreamingHttpResponse(export_stream(export), content_type=export.media_type)
        disposition = content_disposition_header(True, export.filename)
        assert disposition is not None  # None only for an inline response without a file name
        response["Content-Disposition"] = disposition
        response["X-Accel-Buffering"] = "no"  # a proxy should pass the first bytes on at once
        return response
