"""Job state changes: created, running, progress per chunk, log lines, succeeded / failed.

Each function is one short transaction, so that progress written by one worker is visible to
the admin and to `--wait` at once, and a status change is guarded by a row lock.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.utils import timezone

from annotations.models import Job, JobChunk, Project

FINISHED = (Job.Status.SUCCEEDED, Job.Status.FAILED)


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


def chunked(ids: Sequence[int], size: int) -> list[list[int]]:
    if size < 1:
        raise ValueError(f"chunk size must be at least 1, got {size}")
    return [list(ids[i : i + size]) for i in range(0, len(ids), size)]
