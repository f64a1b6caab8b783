"""Background jobs: start a pre-annotation, follow its progress."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from annotations.models import Job
from annotations.services.preannotation import preannotation_start
from api.permissions import CAN_START_JOBS, require_role
from api.serializers.jobs import JobCreateInput, JobDetailOutput, JobOutput
from api.views.base import SLUG, PagePagination, ProjectScopedMixin, error_responses, validated


@extend_schema_view(
    list=extend_schema(
        summary="Background jobs of the project, newest first",
        parameters=[SLUG],
        responses={200: JobOutput(many=True), **error_responses()},
    ),
    retrieve=extend_schema(
        summary="A job with its progress, counts, error and log",
        parameters=[SLUG],
        responses={200: JobDetailOutput, **error_responses()},
    ),
    create=extend_schema(
        summary="Start a pre-annotation job (managers)",
        description="The job is queued when the request commits; follow its progress with GET.",
        parameters=[SLUG],
        request=JobCreateInput,
        responses={201: JobDetailOutput, **error_responses(400, 403)},
    ),
)
class JobViewSet(ProjectScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Background jobs: start a pre-annotation, follow its progress."""

    pagination_class = PagePagination

    def get_queryset(self) -> QuerySet[Job]:
        if self.schema_only:
            return Job.objects.none()
        return Job.objects.filter(project=self.get_project()).select_related("created_by")

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return JobOutput if self.action == "list" else JobDetailOutput

    def create(self, request: Request, slug: str) -> Response:
        project = self.get_project()
        require_role(request, project, CAN_START_JOBS, "Starting a job")
        data = validated(JobCreateInput, request.data)
        job = preannotation_start(project=project, article_ids=data.get("articles"), created_by=self.user)
        return Response(JobDetailOutput(job).data, status=status.HTTP_201_CREATED)
