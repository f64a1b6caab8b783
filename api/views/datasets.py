"""Dataset versions (immutable stored exports) and the streamed export."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC
from pathlib import Path
from typing import Any

import orjson
from django.db.models import QuerySet
from django.http import FileResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.exports.runner import ExportRun, check_export_splits, export_request, export_run
from annotations.models import DatasetVersion
from annotations.services.datasets import dataset_version_create
from annotations.storage import StorageError, StoredFileCorrupt, StoredFileMissing, stored_open_verified
from api.permissions import CAN_EXPORT, require_role
from api.serializers.base import ErrorOutput
from api.serializers.datasets import (
    EXPORT_MEDIA_TYPES,
    DatasetVersionCreateInput,
    DatasetVersionOutput,
    ExportStreamQuery,
)
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
        responses={
            201: DatasetVersionOutput,
            **error_responses(400, 403),
            409: OpenApiResponse(ErrorOutput, "strict=true and a requested split would be empty: nothing stored."),
        },
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


def stored_file_problem(version: DatasetVersion, exc: StorageError) -> Response:
    """410 for a file that is gone, 409 for one whose bytes changed, 503 for a storage not answering."""
    label = f"dataset version {version.name!r}"
    if isinstance(exc, StoredFileMissing):
        code: int = status.HTTP_410_GONE
        detail = f"The stored file of {label} is gone from the storage; create the version again."
    elif isinstance(exc, StoredFileCorrupt):
        code = status.HTTP_409_CONFLICT
        detail = (
            f"The stored file of {label} no longer matches its sha256 (recorded {exc.expected}, "
            f"stored {exc.actual}): not served. Create the version again."
        )
    else:
        code = status.HTTP_503_SERVICE_UNAVAILABLE
        detail = f"The storage did not answer for {label}; try again later."
    return Response({"detail": detail, "dataset_version": version.name, "file": version.file.name}, status=code)


class DatasetVersionDownloadView(ProjectScopedMixin, APIView):
    """The stored bytes of a dataset version, checked against the recorded sha256 first."""

    content_negotiation_class = JSONErrorsNegotiation
    renderer_classes = [JSONRenderer]

    @extend_schema(
        summary="Download a dataset version's stored file (its sha256 is the ETag)",
        description="The file is checked against the recorded sha256 before the first byte is sent (one "
        "extra read of the file on the server; from a bucket, one download into a temporary file), then "
        "streamed. Managers, reviewers and consumers.",
        parameters=[
            SLUG,
            OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Dataset version id."),
        ],
        responses={
            **{
                (200, media_type): OpenApiResponse(OpenApiTypes.BINARY, "The stored export.")
                for media_type in EXPORT_MEDIA_TYPES
            },
            **error_responses(403),
            409: OpenApiResponse(ErrorOutput, "The stored file no longer matches its sha256: not served."),
            410: OpenApiResponse(ErrorOutput, "The stored file is gone from the storage."),
            503: OpenApiResponse(ErrorOutput, "The storage did not answer."),
        },
    )
    def get(self, request: Request, slug: str, pk: int) -> HttpResponseBase:
        project = self.get_project()
        require_role(request, project, CAN_EXPORT, "Dataset versions")
        version = get_object_or_404(DatasetVersion, pk=pk, project=project)
        try:
            handle = stored_open_verified(version.file.name, version.sha256)
        except StorageError as exc:
            return stored_file_problem(version, exc)
        response = FileResponse(
            handle,
            as_attachment=True,
            filename=version.params.get("filename") or Path(version.file.name).name,
            content_type=version.params.get("media_type") or "application/octet-stream",
        )
        response["Content-Length"] = str(version.size)  # verified: the sha256 covers the size
        response["ETag"] = f'"{version.sha256}"'
        return response


# Headers stay small whatever the project: the counts are the split part of the manifest (at most
# three splits); the warnings are one per empty split. Cut off past this length all the same.
HEADER_MAX = 2000

EXPORT_HEADERS = [
    OpenApiParameter(
        "X-Export-Until",
        OpenApiTypes.DATETIME,
        OpenApiParameter.HEADER,
        response=True,
        description="The export's as-of time (ISO 8601, UTC): pass it as `since` next time to get only what "
        "changed since (see the README's sync recipe).",
    ),
    OpenApiParameter(
        "X-Export-Counts",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=True,
        description='The manifest\'s counts known before the first byte, as JSON: `{"articles": N, "splits": '
        '{"train": n, ...}}` (the requested splits). The full manifest (items, labels, what the format left '
        "out) is `manifest.json` in an archive, or the dataset version's counts.",
    ),
    OpenApiParameter(
        "X-Export-Warning",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=True,
        description="Present when a requested split is empty (with strict=true that is a 409 instead).",
    ),
]


def export_headers(run: ExportRun, warnings: list[str]) -> dict[str, str]:
    """The response headers of an export: its as-of time, its split counts, any warning."""
    articles = {split: run.manifest.assignment.articles[split] for split in run.manifest.splits}
    counts = orjson.dumps({"articles": sum(articles.values()), "splits": articles}).decode()
    headers = {
        "X-Export-Until": run.until.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "X-Export-Counts": counts[:HEADER_MAX],
    }
    if warnings:
        headers["X-Export-Warning"] = "; ".join(warnings)[:HEADER_MAX]
    return headers


class ExportView(ProjectScopedMixin, APIView):
    """The corpus streamed in one of the export formats."""

    content_negotiation_class = JSONErrorsNegotiation
    renderer_classes = [JSONRenderer]

    @extend_schema(
        summary="Stream the corpus in a training format",
        description="The same bytes as `manage.py export_corpus`, streamed with constant memory. "
        "Multi-file outputs (spacy, brat, hf; conll and dygie for several splits) are a zip ending with "
        "`manifest.json` (counts per split, label and kind, what the format left out, warnings). "
        "Headers: `X-Export-Until` (as-of time, the next `since`), `X-Export-Counts` (articles per split), "
        "`X-Export-Warning` (a requested split left empty; `strict=true` makes that a 409). "
        "Managers, reviewers and consumers.",
        parameters=[SLUG, ExportStreamQuery, *EXPORT_HEADERS],
        responses={
            **{
                (200, media_type): OpenApiResponse(
                    OpenApiTypes.BINARY,
                    "The export (JSON Lines: application/x-ndjson); Content-Disposition names the file.",
                )
                for media_type in EXPORT_MEDIA_TYPES
            },
            **error_responses(400, 403),
            409: OpenApiResponse(ErrorOutput, "strict=true and a requested split would be empty: nothing exported."),
        },
    )
    def get(self, request: Request, slug: str) -> StreamingHttpResponse:
        project = self.get_project()
        require_role(request, project, CAN_EXPORT, "Exporting")
        options = validated(ExportStreamQuery, request.query_params)
        strict = bool(options.pop("strict"))
        run = export_run(export_request(project=project, **options))
        warnings = check_export_splits(run.manifest, strict=strict)
        export = run.request
        response = StreamingHttpResponse(run.stream(), content_type=export.media_type)
        disposition = content_disposition_header(True, export.filename)
        assert disposition is not None  # None only for an inline response without a file name
        response["Content-Disposition"] = disposition
        response["X-Accel-Buffering"] = "no"  # a proxy should pass the first bytes on at once
        for name, value in export_headers(run, warnings).items():
            response[name] = value
        return response
