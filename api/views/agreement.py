"""/api/v1/projects/<slug>/agreement/: inter-annotator agreement, cached per project state.

Managers, reviewers and consumers read it; annotators get 403 (the figures against gold are a
lead's coaching material, per annotator). The figures come from `annotations.agreement_jobs`.

- GET reads, and never writes: the latest computed figures (`result`, null before any), whether
  they are current (`fresh`), and the newest agreement job (`job`, null before any). Always 200.
- POST computes: it answers the current figures as they are (200) unless `force`, reuses a job
  already computing them, or starts one. A small project is computed in the request (200 with
  the figures); a larger one by a background job (202: `job.url` follows it, and `result` holds
  the previous figures, stale, when there are any).

Both answers have one shape: `fresh`, `fingerprint` (of the project's layers now),
`computed_at`, `job` and `result` (the figures as `annotations.agreement.compute_agreement`
returns them, or null). A project where no two annotators share an article has
`result.status` "not_enough_annotators": a state, not an error.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.models import Job, Project
from annotations.services.agreement import agreement_fingerprint, agreement_latest, agreement_newest, agreement_start
from api.permissions import CAN_READ_ALL_LAYERS, require_role
from api.serializers.agreement import AgreementOutput, AgreementStartInput
from api.views.base import SLUG, ProjectScopedMixin, error_responses, validated

FIGURES = (
    "`result.status` is `not_enough_annotators` when no two annotators share an article. "
    "Figures are rounded to 4 decimals; an undefined one (nothing to compare) is null."
)
READ_DESCRIPTION = (
    "Read only: nothing is computed or started here (POST does that). Managers, reviewers and consumers "
    "(annotators: 403). Always 200: `result` is the latest computed figures and `computed_at` their time; "
    "`fresh` is true when they are those of the project as it is now (`fingerprint`). `job` is the newest "
    "agreement job: pending or running while new figures are computed (poll `job.url` or this endpoint), "
    "failed with `job.error` if the last attempt failed, else the job that computed `result`. Before "
    "anything was computed, `result` and `job` are null and `fresh` is false. " + FIGURES
)
START_DESCRIPTION = (
    "Compute the figures. Managers, reviewers and consumers, the same roles as GET since it only "
    "computes figures (annotators: 403). Without `force`, figures that are current are answered as they "
    "are (200, no job started). A job already computing the project as it is now is reused (202), even "
    "with `force`. Otherwise a job starts: projects with at most AGREEMENT_INLINE_MAX_LAYERS annotator "
    "layers are computed in the request (200 with the new figures), larger ones by a background worker "
    "(202: poll `job.url` or GET this endpoint; `result` holds the previous figures, `fresh` false, or "
    "null). Also 202, with `job.status` failed and `job.error`, when computing failed (POST again to "
    "retry). " + FIGURES
)


def job_output(request: Request, job: Job, slug: str) -> dict[str, Any]:
    url = reverse("api:job-detail", kwargs={"slug": slug, "pk": job.pk})
    return {
        "id": job.pk,
        "status": job.status,
        "progress": job.progress,
        "error": job.error,
        "url": request.build_absolute_uri(url),
    }


def agreement_output(request: Request, project: Project, *, job: Job | None, figures: Job | None) -> dict[str, Any]:
    """The answer of both methods: `figures` is the succeeded job whose result is shown."""
    fingerprint = agreement_fingerprint(project)
    body = {
        "fresh": figures is not None and figures.params.get("fingerprint") == fingerprint,
        "fingerprint": fingerprint,
        "computed_at": figures.finished_at if figures else None,
        "job": job_output(request, job, project.slug) if job else None,
        "result": figures.result if figures else None,
    }
    return AgreementOutput(body).data


class AgreementView(ProjectScopedMixin, APIView):
    """Agreement between annotators, per label, and each annotator against gold."""

    @extend_schema(
        summary="The latest inter-annotator agreement figures (read only)",
        description=READ_DESCRIPTION,
        parameters=[SLUG],
        responses={
            200: OpenApiResponse(AgreementOutput, "The latest figures (or null) and the newest job (or null)."),
            **error_responses(403),
        },
    )
    def get(self, request: Request, slug: str) -> Response:
        project = self.get_project()
        require_role(request, project, CAN_READ_ALL_LAYERS, "Reading agreement figures")
        newest = agreement_newest(project)
        return Response(agreement_output(request, project, job=newest, figures=agreement_latest(project)))

    @extend_schema(
        summary="Compute the agreement figures (or answer the current ones, or reuse the running job)",
        description=START_DESCRIPTION,
        parameters=[SLUG],
        request=AgreementStartInput,
        responses={
            200: OpenApiResponse(AgreementOutput, "The figures of the project as it is now."),
            202: OpenApiResponse(
                AgreementOutput,
                "A job is computing them (or failed); `result` is the previous figures, or null.",
            ),
            **error_responses(400, 403),
        },
    )
    def post(self, request: Request, slug: str) -> Response:
        project = self.get_project()
        require_role(request, project, CAN_READ_ALL_LAYERS, "Computing agreement figures")
        force = validated(AgreementStartInput, request.data)["force"]
        job = agreement_start(project=project, user=self.user, force=force)
        if job.status == Job.Status.SUCCEEDED:
            figures: Job | None = job
            code: int = status.HTTP_200_OK
        else:
            figures = agreement_latest(project)
            code = status.HTTP_202_ACCEPTED
        return Response(agreement_output(request, project, job=job, figures=figures), status=code)
