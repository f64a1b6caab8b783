"""GET /api/v1/projects/<slug>/agreement/: inter-annotator agreement, cached per project state.

Managers, reviewers and consumers read it; annotators get 403 (the figures against gold are a
lead's coaching material, per annotator). The figures come from `annotations.agreement_jobs`:

- 200: the cached figures are current (`fresh` true), or were just computed in the request
  (small projects);
- 202: they are being computed by a background job (large projects, or `?refresh=true` on one);
  `job.url` follows it, and `result` holds the previous figures (stale) when there are any.

Both answers have one shape: `fresh`, `fingerprint` (of the project's layers now),
`computed_at`, `job` (the job that computed the figures, or that is computing them) and
`result` (the figures as `annotations.agreement.compute_agreement` returns them, or null).
A project where no two annotators share an article answers 200 with
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

from annotations.agreement_jobs import agreement_fingerprint, agreement_latest, agreement_start
from annotations.models import Job
from api.permissions import CAN_READ_ALL_LAYERS, require_role
from api.serializers.agreement import AgreementOutput, AgreementQuery
from api.views.base import SLUG, ProjectScopedMixin, error_responses, validated

DESCRIPTION = (
    "Managers, reviewers and consumers (annotators: 403). 200 when the figures are current (computed "
    "now on small projects, or cached until a layer changes); 202 while a background job computes "
    "them: poll `job.url`, and `result` holds the previous figures (`fresh` false) or null; also 202 "
    "with `job.status` failed and `job.error` when computing failed (the next request tries again). "
    "`result.status` is `not_enough_annotators` when no two annotators share an article. "
    "Figures are rounded to 4 decimals; an undefined one (nothing to compare) is null."
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


class AgreementView(ProjectScopedMixin, APIView):
    """Agreement between annotators, per label, and each annotator against gold."""

    @extend_schema(
        summary="Inter-annotator agreement per label, and each annotator against gold",
        description=DESCRIPTION,
        parameters=[SLUG, AgreementQuery],
        responses={
            200: OpenApiResponse(AgreementOutput, "The figures of the project as it is now."),
            202: OpenApiResponse(
                AgreementOutput, "A job is computing them; `result` is the previous figures, or null."
            ),
            **error_responses(400, 403),
        },
    )
    def get(self, request: Request, slug: str) -> Response:
        project = self.get_project()
        require_role(request, project, CAN_READ_ALL_LAYERS, "Reading agreement figures")
        refresh = validated(AgreementQuery, request.query_params)["refresh"]
        job = agreement_start(project=project, user=request.user, force=refresh)
        if job.status == Job.Status.SUCCEEDED:
            shown: Job | None = job
            code = status.HTTP_200_OK
        else:
            shown = agreement_latest(project)
            code = status.HTTP_202_ACCEPTED
        fingerprint = agreement_fingerprint(project)
        body = {
            "fresh": shown is not None and shown.params.get("fingerprint") == fingerprint,
            "fingerprint": fingerprint,
            "computed_at": shown.finished_at if shown else None,
            "job": job_output(request, job, project.slug),
            "result": shown.result if shown else None,
        }
        return Response(AgreementOutput(body).data, status=code)
