"""Job state changes: created, running, progress per chunk, log lines, succeeded / failed.

Each function is one short transaction, so that progress written by one worker is visible to
the admin and to `--wait` at once, and a status change is guarded by a row lock.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Sum, Value
from django.db.models.functions import Concat, Length
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from annotations.models import Article, Job, JobChunk, Project

logger = logging.getLogger(__name__)


class BrokerUnavailable(Exception):
    """The task broker could not be reached; the job was marked failed."""


class Task:
    """The Celery tasks by name (`annotations.tasks` defines them): services enqueue by name, so
    the domain never imports the task module and the task module may import every service."""

    PREANNOTATE_JOB = "annotations.tasks.preannotate_job"
    PREANNOTATE_CHUNK = "annotations.tasks.preannotate_chunk"
    AGREEMENT_JOB = "annotations.tasks.agreement_job"
    WORKER_CHECK = "annotations.tasks.worker_check"
    TRAIN_JOB = "annotations.tasks.train_job"
    JOBS_SWEEP = "annotations.tasks.jobs_sweep"

    LINK_EVENTS_JOB = "annotations.tasks.link_events_job"

    ALL = (
        PREANNOTATE_JOB,
        PREANNOTATE_CHUNK,
        AGREEMENT_JOB,
        WORKER_CHECK,
        TRAIN_JOB,
        JOBS_SWEEP,
        LINK_EVENTS_JOB,
    )


# Job kinds split into chunks: the task that plans a job (given the job id) and the task that runs
# one chunk (given the chunk id). The sweep re-publishes them; a new chunked kind adds one line.
# Single-task kinds (agreement, worker check) are left to the broker's redelivery.
CHUNKED_KINDS: dict[str, tuple[str, str]] = {
    Job.Kind.PREANNOTATE: (Task.PREANNOTATE_JOB, Task.PREANNOTATE_CHUNK),
}


def task_send(name: str, *args: Any) -> None:
    """Publish the task `name` (one of `Task`) with JSON arguments on the default queue.

    Raises BrokerUnavailable, with what to do, when the broker can't be reached.
    """
    if name not in Task.ALL:
        raise ValueError(f"unknown task {name!r}; known: {', '.join(Task.ALL)}")
    try:
        if current_app.conf.task_always_eager:  # run here and now, as a direct call would
            current_app.loader.import_default_modules()
            current_app.tasks[name].apply_async(args=args)
        else:
            current_app.send_task(name, args=args, retry=True, queue=settings.CELERY_TASK_DEFAULT_QUEUE)
    except (KombuOperationalError, OSError) as exc:
        raise BrokerUnavailable(
            f"could not reach the task broker ({_broker_display()}): {str(exc).rstrip('.')}. "
            "Start Redis (or unset CELERY_BROKER_URL for the embedded broker) and start the job again."
        ) from exc


def job_enqueue(*, job_id: int, task: str) -> None:
    """Publish a job's first task; when the broker is away the job fails with the reason instead."""
    try:
        task_send(task, job_id)
    except BrokerUnavailable as exc:
        job_fail(job_id=job_id, error=str(exc))
        logger.error("job %s: %s", job_id, exc)


def _broker_display() -> str:
    url = settings.CELERY_BROKER_URL
    if "@" in url:  # hide credentials
        scheme, rest = url.split("://", 1)
        url = f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


FINISHED = (Job.Status.SUCCEEDED, Job.Status.FAILED, Job.Status.CANCELLED)
ACTIVE = (Job.Status.PENDING, Job.Status.RUNNING)


def job_create(
    *,
    kind: str,
    project: Project | None = None,
    params: Mapping[str, Any] | None = None,
    total: int = 0,
    created_by: Any = None,
) -> Job:
    return Job.objects.create(kind=kind, project=project, params=dict(params or {}), total=total, created_by=created_by)


def job_log(*, job_id: int, line: str) -> None:
    """Append a time-stamped line to the job's log (visible in the admin)."""
    stamp = timezone.now().strftime("%H:%M:%S")
    Job.objects.filter(pk=job_id).update(log=Concat(F("log"), Value(f"{stamp} {line}\n")))


@transaction.atomic
def job_start(*, job_id: int, chunks: Sequence[Sequence[int]] = ()) -> bool:
    """Move a pending job to running and record its chunks. False when it already started or ended.

    The row lock makes a redelivered start message a no-op instead of a second set of chunks.
    """
    job = Job.objects.select_for_update().get(pk=job_id)
    if job.status != Job.Status.PENDING:
        return False
    JobChunk.objects.bulk_create(
        JobChunk(job=job, index=index, article_ids=list(ids)) for index, ids in enumerate(chunks)
    )
    job.status = Job.Status.RUNNING
    job.started_at = timezone.now()
    job.save(update_fields=["status", "started_at"])
    return True


def chunk_timeout(chunk: JobChunk) -> float:
    """Seconds after which a started chunk that is not done has lost its worker: three times its
    planned run (its characters at PREANNOTATE_CHARS_PER_SECOND), at least JOB_STALE_AFTER."""
    chars = Article.objects.filter(pk__in=chunk.article_ids).aggregate(n=Sum(Length("text")))["n"] or 0
    return max(float(settings.JOB_STALE_AFTER), 3 * chars / settings.PREANNOTATE_CHARS_PER_SECOND)


@transaction.atomic
def job_chunk_begin(*, chunk_id: int) -> JobChunk | None:
    """Record that a delivery of the chunk begins; None when it must not run: done already, its job
    not running, or another delivery began it within its timeout (the broker redelivered a message
    whose worker is still at it; if that worker dies, the sweep sends the chunk again)."""
    chunk = JobChunk.objects.select_for_update(of=("self",)).select_related("job__project").get(pk=chunk_id)
    if chunk.done or chunk.job.status != Job.Status.RUNNING:
        return None
    now = timezone.now()
    if chunk.started_at is not None and (now - chunk.started_at).total_seconds() < chunk_timeout(chunk):
        logger.info("chunk %s of job %s is running elsewhere since %s: delivery dropped", chunk.index,
                    chunk.job_id, chunk.started_at)  # fmt: skip
        return None
    chunk.attempts += 1
    chunk.started_at = now
    chunk.save(update_fields=["attempts", "started_at"])
    return chunk


def job_chunk_release(*, chunk_id: int) -> None:
    """A delivery gave the chunk up (to be retried): the retry may begin it at once."""
    JobChunk.objects.filter(pk=chunk_id, done=False).update(started_at=None)


@transaction.atomic
def job_chunk_finish(*, chunk_id: int, counts: Mapping[str, int], model_version: str = "") -> Job:
    """Count a finished chunk once; the job succeeds when its last chunk is in."""
    chunk = JobChunk.objects.select_for_update().get(pk=chunk_id)
    job = Job.objects.select_for_update().get(pk=chunk.job_id)
    if chunk.done:
        return job
    chunk.done = True
    chunk.counts = dict(counts)
    chunk.finished_at = timezone.now()
    chunk.save(update_fields=["done", "counts", "finished_at"])
    total_counts = Counter(job.counts)
    total_counts.update(counts)
    job.counts = dict(total_counts)
    job.done = min(job.total, job.done + len(chunk.article_ids))
    if model_version and not job.model_version:
        job.model_version = model_version
    if not job.chunks.filter(done=False).exists() and job.status == Job.Status.RUNNING:
        job.status = Job.Status.SUCCEEDED
        job.finished_at = timezone.now()
    job.save(update_fields=["counts", "done", "model_version", "status", "finished_at"])
    return job


@transaction.atomic
def job_succeed(*, job_id: int, counts: Mapping[str, int] | None = None) -> Job:
    job = Job.objects.select_for_update().get(pk=job_id)
    if job.status in FINISHED:
        return job
    job.status = Job.Status.SUCCEEDED
    job.done = job.total
    if counts:
        job.counts = dict(counts)
    job.started_at = job.started_at or timezone.now()
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "done", "counts", "started_at", "finished_at"])
    return job


@transaction.atomic
def job_fail(*, job_id: int, error: str) -> Job:
    """Mark a job failed with a message a person can act on; a finished job stays as it was."""
    job = Job.objects.select_for_update().get(pk=job_id)
    if job.status in FINISHED:
        return job
    job.status = Job.Status.FAILED
    job.error = error
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "error", "finished_at"])
    return job


@transaction.atomic
def job_cancel(*, job_id: int) -> Job:
    """Ask a pending or running job to stop: it is marked cancelled at once, and its worker stops at
    its next check (a training job between iterations) without registering anything."""
    job = Job.objects.select_for_update().get(pk=job_id)
    if job.status in FINISHED:
        raise ValidationError(
            {"status": [f"job {job.pk} is {job.status}: only a pending or running job can be cancelled"]}
        )
    job.status = Job.Status.CANCELLED
    job.error = "cancelled"
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "error", "finished_at"])
    return job


def job_cancelled(*, job_id: int) -> bool:
    return Job.objects.filter(pk=job_id, status=Job.Status.CANCELLED).exists()


def job_progress(*, job_id: int, done: int) -> None:
    """Set a single-task job's progress (`done` out of its `total`)."""
    Job.objects.filter(pk=job_id, total__gte=done).update(done=done)


def chunked(ids: Sequence[int], size: int) -> list[list[int]]:
    if size < 1:
        raise ValueError(f"chunk size must be at least 1, got {size}")
    return [list(ids[i : i + size]) for i in range(0, len(ids), size)]


@transaction.atomic
def job_delete(*, job: Job) -> None:
    """Delete a finished job with its chunks; a pending or running one belongs to its workers."""
    if Job.objects.filter(pk=job.pk, status__in=(Job.Status.PENDING, Job.Status.RUNNING)).exists():
        raise ValidationError({"status": [f"job {job.pk} is {job.status}: only finished jobs can be deleted"]})
    job.delete()
