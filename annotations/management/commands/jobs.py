"""`manage.py jobs [--sweep | --resume [ID …] | --fail-stale [--older-than S]]`: stuck jobs by hand.

Without an option it lists the pending and running jobs with their last activity. `--sweep` runs
the sweep Celery beat sends (`annotations/services/job_sweep.py`) once, now; `--resume ID …`
publishes those jobs' unfinished chunks again at once (a failed job runs again; without ids:
every active chunked job); `--fail-stale` fails every pending or running job, of any kind, that has
not moved for `--older-than` seconds (default JOB_STALE_AFTER).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from annotations.models import Job
from annotations.services.job_sweep import job_last_activity, job_resume, jobs_fail_stale, jobs_sweep
from annotations.services.jobs import ACTIVE, CHUNKED_KINDS, BrokerUnavailable


class Command(BaseCommand):
    help = "List active jobs; resume stuck ones (--sweep, --resume) or fail them (--fail-stale)."

    def add_arguments(self, parser: Any) -> None:
        action = parser.add_mutually_exclusive_group()
        action.add_argument("--sweep", action="store_true", help="Run the periodic sweep once, now.")
        action.add_argument("--resume", nargs="*", type=int, metavar="ID", help="Send these jobs' work again.")
        action.add_argument("--fail-stale", action="store_true", help="Fail active jobs that stopped moving.")
        parser.add_argument("--older-than", type=float, help="Seconds without progress (default JOB_STALE_AFTER).")

    def handle(self, *args: Any, sweep: bool, resume: list[int] | None, fail_stale: bool,
               older_than: float | None, **options: Any) -> None:  # fmt: skip
        try:
            if sweep:
                self.stdout.write(f"sweep: {jobs_sweep()}")
            elif resume is not None:
                self._resume(resume)
            elif fail_stale:
                limit = older_than if older_than is not None else float(settings.JOB_STALE_AFTER)
                failed = jobs_fail_stale(older_than=limit)
                for job in failed:
                    self.stdout.write(f"job {job.pk} ({job.kind}) failed: {job.error}")
                self.stdout.write(f"{len(failed)} job(s) failed (no progress for {limit:g} s)")
            else:
                self._list()
        except BrokerUnavailable as exc:
            raise CommandError(str(exc)) from exc

    def _resume(self, ids: list[int]) -> None:
        if not ids:
            ids = list(Job.objects.filter(kind__in=list(CHUNKED_KINDS), status__in=ACTIVE).values_list("pk", flat=True))
        known = set(Job.objects.filter(pk__in=ids).values_list("pk", flat=True))
        if missing := sorted(set(ids) - known):
            raise CommandError(f"no job {', '.join(map(str, missing))}")
        for job_id in sorted(ids):
            try:
                sent = job_resume(job_id=job_id)
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"job {job_id}: {sent} message(s) sent again")

    def _list(self) -> None:
        now = timezone.now()
        active = Job.objects.filter(status__in=ACTIVE).order_by("pk")
        for job in active:
            idle = (now - job_last_activity(job)).total_seconds()
            self.stdout.write(
                f"job {job.pk} {job.kind} {job.status} {job.done}/{job.total}, last moved {idle:.0f} s ago, "
                f"resumed {job.resumes} time(s) in a row"
            )
        if not active:
            self.stdout.write("no pending or running job")
