"""`manage.py train --project SLUG [--wait]`: train on the project's adjudicated gold on a worker."""

from __future__ import annotations

import time
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from annotations.models import Job, ModelComponent, Project
from annotations.services.training import TrainingBusy, training_start


class Command(BaseCommand):
    help = "Train the project's models on its adjudicated gold (a Celery job); the gate decides what runs."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--project", required=True, help="Project slug.")
        parser.add_argument("--wait", action="store_true", help="Follow the job's log until it ends.")
        parser.add_argument("--timeout", type=float, default=3600.0, help="Seconds --wait waits at most.")

    def handle(self, *args: Any, project: str, wait: bool, timeout: float, **options: Any) -> None:
        try:
            target = Project.objects.get(slug=project)
        except Project.DoesNotExist as exc:
            raise CommandError(f"unknown project {project!r}") from exc
        try:
            job = training_start(project=target)
        except TrainingBusy as busy:
            raise CommandError(str(busy)) from busy
        except ValidationError as exc:
            raise CommandError("; ".join(" ".join(v) for v in exc.message_dict.values())) from exc
        job.refresh_from_db()
        if job.status == Job.Status.FAILED:
            raise CommandError(f"job {job.pk} failed: {job.error}")
        self.stdout.write(f"job {job.pk}: training on the adjudicated gold of {target.slug}")
        if wait:
            self._wait(job, timeout)

    def _wait(self, job: Job, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        shown = 0
        while True:
            job.refresh_from_db()
            lines = job.log.splitlines()
            for line in lines[shown:]:
                self.stdout.write(line)
            shown = len(lines)
            if job.status not in (Job.Status.PENDING, Job.Status.RUNNING):
                break
            if time.monotonic() > deadline:
                raise CommandError(f"job {job.pk} still {job.status} after {timeout:g} s; is a worker running?")
            time.sleep(0.5)
        if job.status != Job.Status.SUCCEEDED:
            raise CommandError(f"job {job.pk} {job.status}: {job.error}")
        components = ModelComponent.objects.filter(model__job=job).order_by("name")
        for component in components:
            self.stdout.write(f"{component.name}: {component.get_status_display()} — {component.decision}")
