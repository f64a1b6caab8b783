"""`manage.py check_worker`: send a task through the broker and wait for a worker to run it."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from annotations.models import Job
from annotations.services import jobs
from annotations.services.jobs import BrokerUnavailable, Task, task_send


class Command(BaseCommand):
    help = "Check that a Celery worker is consuming tasks: it must mark a job row succeeded."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--timeout", type=float, default=30.0, help="Seconds to wait (default 30).")

    def handle(self, *args: Any, timeout: float, **options: Any) -> None:
        with transaction.atomic():
            job = jobs.job_create(kind=Job.Kind.HEALTHCHECK, total=1)
        try:
            task_send(Task.WORKER_CHECK, job.pk)
        except BrokerUnavailable as exc:
            jobs.job_fail(job_id=job.pk, error=str(exc))
            raise CommandError(str(exc)) from exc
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if job.status == Job.Status.SUCCEEDED:
                self.stdout.write(f"worker ok: job {job.pk} run by process {job.counts.get('worker_pid')}")
                return
            time.sleep(0.2)
        jobs.job_fail(job_id=job.pk, error=f"no worker ran the check within {timeout:g} s")
        raise CommandError(f"no worker ran the check within {timeout:g} s: is `make worker` running?")
