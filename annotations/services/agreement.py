"""Agreement figures as a cached job: start one, run it, find a result that is still current.

The figures of `annotations.agreement` are stored on a `Job` (kind agreement, `result`), keyed
by a fingerprint of what they were computed from. The fingerprint is a cheap aggregate over the
project's annotator and gold layers (count, largest id, sum of versions, latest change, how many
are in the statuses the figures read) plus the schema version: every write to a layer goes
through `_layer_touch` in the services, which bumps its version and `updated_at`, so any change
(a mention added, a status changed, a layer created or deleted) gives another fingerprint and
the cached figures stop being served.

Small projects (at most `AGREEMENT_INLINE_MAX_LAYERS` annotator layers) are computed inline, in
the request; larger ones by the Celery task `agreement_job`, enqueued after commit. Both store
a succeeded job, so the cache works the same way whichever ran it.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Q, Sum

from annotations.agreement import (
    DEFAULT_ANNOTATOR_STATUSES,
    DEFAULT_GOLD_STATUSES,
    compute_agreement,
    load_agreement_data,
)
from annotations.models import Job, Layer, Project
from annotations.services import jobs
from annotations.services.jobs import Task

logger = logging.getLogger(__name__)

ACTIVE = (Job.Status.PENDING, Job.Status.RUNNING)
# A job's steps, for its progress: the layers loaded, the figures computed.
STEPS = 2
# Finished agreement jobs kept per project (the newest); a cache needs only the last one, the
# others are a short history. Without a limit every change + page view would add a row for good.
JOBS_KEPT = 5

_COUNTED = Q(kind=Layer.Kind.ANNOTATOR, status__in=list(DEFAULT_ANNOTATOR_STATUSES)) | Q(
    kind=Layer.Kind.GOLD, status__in=list(DEFAULT_GOLD_STATUSES)
)


def _layer_stats(project: Project) -> dict[str, Any]:
    """One aggregate query over the project's annotator and gold layers."""
    return Layer.objects.filter(article__project=project, kind__in=[Layer.Kind.ANNOTATOR, Layer.Kind.GOLD]).aggregate(
        layers=Count("id"),
        max_id=Max("id"),
        versions=Sum("version"),
        updated=Max("updated_at"),
        counted=Count("id", filter=_COUNTED),
        annotator_layers=Count("id", filter=_COUNTED & Q(kind=Layer.Kind.ANNOTATOR)),
    )


def _fingerprint_of(project: Project, stats: dict[str, Any]) -> str:
    updated = stats["updated"].isoformat() if stats["updated"] else "-"
    source = "|".join(
        str(part)
        for part in (
            project.pk,
            project.schema_version,
            stats["layers"],
            stats["max_id"] or 0,
            stats["versions"] or 0,
            updated,
            stats["counted"],
        )
    )
    return hashlib.sha256(source.encode()).hexdigest()[:32]


def agreement_fingerprint(project: Project) -> str:
    """What the project's agreement figures depend on, as a short hex string (one query)."""
    return _fingerprint_of(project, _layer_stats(project))


def _agreement_jobs(project: Project) -> Any:
    return Job.objects.filter(project=project, kind=Job.Kind.AGREEMENT)


def agreement_cached(project: Project, fingerprint: str | None = None) -> Job | None:
    """The newest succeeded agreement job computed from the project as it is now, if any."""
    fingerprint = fingerprint or agreement_fingerprint(project)
    return (
        _agreement_jobs(project)
        .filter(status=Job.Status.SUCCEEDED, params__fingerprint=fingerprint)
        .order_by("-finished_at", "-id")
        .first()
    )


def agreement_latest(project: Project) -> Job | None:
    """The newest succeeded agreement job, current or not (figures to show while recomputing)."""
    return _agreement_jobs(project).filter(status=Job.Status.SUCCEEDED).order_by("-finished_at", "-id").first()


def agreement_newest(project: Project) -> Job | None:
    """The newest agreement job of any status (what the figures' pages show as "the job")."""
    return _agreement_jobs(project).order_by("-id").first()


def agreement_active(project: Project) -> Job | None:
    """The newest pending or running agreement job, whatever its fingerprint."""
    return _agreement_jobs(project).filter(status__in=ACTIVE).order_by("-id").first()


def agreement_start(*, project: Project, user: Any = None, force: bool = False) -> Job:
    """The job that has (or will have) the project's current agreement figures.

    Without `force`, a fresh cached job is returned as it is. Otherwise a pending or running job
    for the same fingerprint is reused (forcing never queues a second copy of a running job);
    else a new job is created: computed here when the project has at most
    AGREEMENT_INLINE_MAX_LAYERS annotator layers, else enqueued after the transaction commits.
    """
    with transaction.atomic():
        # Serialise starts per project, so that two requests don't queue the same computation.
        Project.objects.select_for_update().filter(pk=project.pk).exists()
        stats = _layer_stats(project)
        fingerprint = _fingerprint_of(project, stats)
        if not force:
            cached = agreement_cached(project, fingerprint)
            if cached is not None:
                return cached
        running = _agreement_jobs(project).filter(status__in=ACTIVE, params__fingerprint=fingerprint)
        job = running.order_by("-id").first()
        if job is not None:
            return job
        inline = stats["annotator_layers"] <= settings.AGREEMENT_INLINE_MAX_LAYERS
        job = jobs.job_create(
            kind=Job.Kind.AGREEMENT,
            project=project,
            params={"fingerprint": fingerprint, "inline": inline, "annotator_layers": stats["annotator_layers"]},
            total=STEPS,
            created_by=user if user is not None and user.is_authenticated else None,
        )
        if not inline:
            job_id = job.pk
            transaction.on_commit(lambda: jobs.job_enqueue(job_id=job_id, task=Task.AGREEMENT_JOB))
            return job
    try:
        return agreement_run(job_id=job.pk)
    except Exception as exc:
        logger.exception("agreement job %s failed", job.pk)
        return jobs.job_fail(job_id=job.pk, error=f"{type(exc).__name__}: {exc}")


def agreement_run(*, job_id: int) -> Job:
    """Compute the figures of the job's project and store them on the job.

    A job that already finished is left as it is (a redelivered message). A job found running
    (its worker died mid-way) is computed again: the result is replaced, never added to.
    The fingerprint is read again before the layers are: if the project changed since the job
    was queued, the figures are those of the newer state and are cached under it.
    """
    if not jobs.job_start(job_id=job_id):
        job = Job.objects.select_related("project").get(pk=job_id)
        if job.status != Job.Status.RUNNING:
            return job
    job = Job.objects.select_related("project").get(pk=job_id)
    project = job.project
    if project is None:
        return jobs.job_fail(job_id=job_id, error="An agreement job needs a project.")
    fingerprint = agreement_fingerprint(project)
    data = load_agreement_data(project=project)
    Job.objects.filter(pk=job_id, status=Job.Status.RUNNING).update(done=1)
    jobs.job_log(job_id=job_id, line=f"{len(data.annotators)} annotator(s), {len(data.gold)} gold layer(s) loaded")
    result = compute_agreement(data)
    counts = {
        "articles": result["articles"],
        "annotators": len(result["annotators"]),
        "gold_articles": result["gold_articles"],
    }
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        if job.status != Job.Status.RUNNING:
            return job
        job.result = result
        job.params = {**job.params, "fingerprint": fingerprint}
        job.save(update_fields=["result", "params"])
        jobs.job_log(job_id=job_id, line=f"figures computed: status {result['status']}")
        job = jobs.job_succeed(job_id=job_id, counts=counts)
        _prune(project)
        return job


def _prune(project: Project) -> None:
    """Delete the project's finished agreement jobs but the newest JOBS_KEPT."""
    finished = _agreement_jobs(project).exclude(status__in=ACTIVE).order_by("-id")
    stale = list(finished.values_list("id", flat=True)[JOBS_KEPT:])
    if stale:
        Job.objects.filter(pk__in=stale).delete()
