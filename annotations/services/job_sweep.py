"""Jobs that stopped moving: find them, send their unfinished work again, or fail them.

A chunked job (`jobs.CHUNKED_KINDS`) is stuck in two ways:
- **its messages were lost** (Redis restarted without its data, a queue purged): the job stays
  pending, or running with chunks nobody will deliver. Seen as *quiet*: no chunk of any active
  job started or finished for `JOB_STALE_AFTER` seconds and none is running, while chunks are left.
  Quiet across all jobs, not per job: a job waiting behind another job's chunks is not stuck.
- **its worker died mid-chunk** (killed, out of memory): the chunk was started longer ago than
  its timeout (`jobs.chunk_timeout`) and is not done. The broker would redeliver it after its
  visibility timeout; the sweep does not wait for that.

Either way the unfinished chunks (or the plan, for a pending job) are published again: running a
chunk twice is harmless (`jobs.job_chunk_begin`, `jobs.job_chunk_finish`). After `JOB_MAX_RESUMES`
re-publishes in a row with no chunk finished in between, or a chunk begun that many times without
finishing, the job fails with a message saying what to do.

`jobs_sweep` runs every `JOB_SWEEP_INTERVAL` seconds as a task sent by Celery beat (`make run`
starts beat inside its worker; docker-compose runs a `scheduler` service). Sent through the broker
and run by a worker, it does nothing while no worker runs (nothing could be resumed then anyway).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from annotations.models import Job, JobChunk
from annotations.services import jobs
from annotations.services.jobs import ACTIVE, CHUNKED_KINDS, BrokerUnavailable, task_send

logger = logging.getLogger(__name__)


@dataclass
class SweepReport:
    resumed: dict[int, int] = field(default_factory=dict)  # job id → messages published again
    failed: dict[int, str] = field(default_factory=dict)  # job id → why

    def __str__(self) -> str:
        parts = [f"job {pk}: {n} message(s) sent again" for pk, n in sorted(self.resumed.items())]
        parts += [f"job {pk} failed: {why}" for pk, why in sorted(self.failed.items())]
        return "; ".join(parts) or "nothing stuck"


def _started_long_ago(chunk: JobChunk, now: datetime) -> bool:
    return chunk.started_at is not None and (now - chunk.started_at).total_seconds() >= jobs.chunk_timeout(chunk)


def _quiet(now: datetime, stale: timedelta) -> bool:
    """No chunk of an active chunked job started or finished lately, and none is still running."""
    chunks = JobChunk.objects.filter(job__status=Job.Status.RUNNING, job__kind__in=list(CHUNKED_KINDS))
    if chunks.filter(Q(started_at__gt=now - stale) | Q(finished_at__gt=now - stale)).exists():
        return False
    running = chunks.filter(done=False, started_at__isnull=False)
    return all(_started_long_ago(chunk, now) for chunk in running)


def jobs_sweep(*, now: datetime | None = None) -> SweepReport:
    """One pass over the active chunked jobs: resume the stuck ones, fail the hopeless ones."""
    now = now or timezone.now()
    stale = timedelta(seconds=settings.JOB_STALE_AFTER)
    report = SweepReport()
    active = list(
        Job.objects.filter(kind__in=list(CHUNKED_KINDS), status__in=ACTIVE).order_by("pk").values_list("pk", flat=True)
    )
    if not active:
        return report
    quiet = _quiet(now, stale)
    for job_id in active:
        try:
            _sweep_job(job_id, now=now, stale=stale, quiet=quiet, report=report)
        except BrokerUnavailable as exc:  # the next pass tries again
            logger.warning("sweep: job %s not resumed: %s", job_id, exc)
            break
    if report.resumed or report.failed:
        logger.warning("sweep: %s", report)
    return report


def _sweep_job(job_id: int, *, now: datetime, stale: timedelta, quiet: bool, report: SweepReport) -> None:
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        if job.status not in ACTIVE or (job.resumed_at is not None and now - job.resumed_at < stale):
            return  # finished meanwhile, or resumed lately: its messages are on their way
        plan_task, chunk_task = CHUNKED_KINDS[job.kind]
        unfinished = list(job.chunks.filter(done=False).order_by("index"))
        dead = [chunk for chunk in unfinished if _started_long_ago(chunk, now)]
        worn = [chunk for chunk in dead if chunk.attempts >= settings.JOB_MAX_RESUMES + 1]
        if worn:
            chunk = worn[0]
            return _fail(job, report, (
                f"chunk {chunk.index} (articles {', '.join(map(str, chunk.article_ids[:10]))}"
                f"{', …' if len(chunk.article_ids) > 10 else ''}) was begun {chunk.attempts} times and never "
                "finished: its worker stopped each time (killed, out of memory?). See the worker's log; "
                f"`manage.py jobs --resume {job.pk}` tries again."
            ))  # fmt: skip
        # A job planned or started lately has its messages on their way: quiet says nothing of it yet.
        quiet = quiet and now - (job.started_at or job.created_at) >= stale
        if job.status == Job.Status.PENDING:
            if not quiet:
                return
            send = [(plan_task, job.pk)]
        else:
            waiting = [chunk for chunk in unfinished if chunk.started_at is None or chunk in dead]
            send = [(chunk_task, chunk.pk) for chunk in (waiting if quiet else dead)]
        if not send:
            return
        progressed = job.resumed_at is not None and job.chunks.filter(finished_at__gt=job.resumed_at).exists()
        in_a_row = 1 if progressed else job.resumes + 1
        if in_a_row > settings.JOB_MAX_RESUMES:
            return _fail(job, report, (
                f"no progress for {settings.JOB_STALE_AFTER} s after {settings.JOB_MAX_RESUMES} re-publishes of "
                f"its unfinished work ({len(unfinished)} chunk(s), {job.total - job.done} of {job.total} articles "
                f"left): no worker took it. Check that a worker consumes queue "
                f"{settings.CELERY_TASK_DEFAULT_QUEUE!r} (`manage.py check_worker`), then `manage.py jobs --resume "
                f"{job.pk}`."
            ))  # fmt: skip
        job.resumes, job.resumed_at = in_a_row, now
        job.save(update_fields=["resumes", "resumed_at"])
        # Re-published after commit: a worker must see the new `resumed_at`, never an older row.
        transaction.on_commit(lambda: _publish(send))
    why = "its worker stopped mid-chunk" if job.status == Job.Status.RUNNING and not quiet else "no progress"
    line = f"sweep: {why} for {settings.JOB_STALE_AFTER} s, {len(send)} message(s) sent again"
    jobs.job_log(job_id=job.pk, line=f"{line} (resume {in_a_row} of at most {settings.JOB_MAX_RESUMES})")
    report.resumed[job.pk] = len(send)


def _publish(messages: list[tuple[str, int]]) -> None:
    for task, arg in messages:
        task_send(task, arg)


def _fail(job: Job, report: SweepReport, error: str) -> None:
    jobs.job_fail(job_id=job.pk, error=error)
    report.failed[job.pk] = error


def job_resume(*, job_id: int) -> int:
    """Publish a chunked job's unfinished work again now, whatever its state: a failed job runs
    again (its finished chunks stay counted). Returns how many messages were sent."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        if job.kind not in CHUNKED_KINDS:
            raise ValueError(f"job {job.pk} is a {job.kind} job: only chunked jobs can be resumed")
        plan_task, chunk_task = CHUNKED_KINDS[job.kind]
        if job.status == Job.Status.SUCCEEDED:
            return 0
        chunks = list(job.chunks.filter(done=False).order_by("index").values_list("pk", flat=True))
        if job.status == Job.Status.FAILED:
            job.status = Job.Status.RUNNING if job.started_at else Job.Status.PENDING
            job.error, job.finished_at = "", None
        # Begun deliveries are forgotten: whoever runs a chunk now, runs it.
        JobChunk.objects.filter(pk__in=chunks).update(started_at=None)
        job.resumes, job.resumed_at = 0, timezone.now()
        job.save(update_fields=["status", "error", "finished_at", "resumes", "resumed_at"])
        send = [(plan_task, job.pk)] if job.status == Job.Status.PENDING else [(chunk_task, pk) for pk in chunks]
        transaction.on_commit(lambda: _publish(send))
    jobs.job_log(job_id=job.pk, line=f"resumed by hand: {len(send)} message(s) sent again")
    return len(send)


def job_last_activity(job: Job) -> datetime:
    """When the job last moved: created, started, resumed, or a chunk begun or finished."""
    chunk_times = job.chunks.aggregate(started=Max("started_at"), finished=Max("finished_at"))
    times = [job.created_at, job.started_at, job.resumed_at, chunk_times["started"], chunk_times["finished"]]
    return max(t for t in times if t is not None)


def jobs_fail_stale(*, older_than: float, now: datetime | None = None) -> list[Job]:
    """Fail every pending or running job (any kind) that has not moved for `older_than` seconds."""
    now = now or timezone.now()
    failed = []
    for job in Job.objects.filter(status__in=ACTIVE).order_by("pk"):
        last = job_last_activity(job)
        if (now - last).total_seconds() >= older_than:
            error = (
                f"marked failed by `manage.py jobs --fail-stale`: no progress since {last:%Y-%m-%d %H:%M:%S} UTC "
                f"({job.done} of {job.total} done)"
            )
            failed.append(jobs.job_fail(job_id=job.pk, error=error))
    return failed
