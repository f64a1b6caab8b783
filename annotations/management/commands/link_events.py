"""`manage.py link_events --project SLUG [--layer gold|machine:latest|…] [--status …] [--wait]`: propose
cross-document event clusters (a job on the workers)."""

from __future__ import annotations

import time
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from annotations.exports.selection import LAYER_SELECTOR_HELP
from annotations.models import Job, Project
from annotations.services.linking import link_events_start


class Command(BaseCommand):
    help = "Link the events of a project's articles that report the same real-world event (proposed clusters)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--project", required=True, help="Project slug.")
        parser.add_argument("--layer", default="gold", help=f"Layer selector: {LAYER_SELECTOR_HELP} (default gold).")
        parser.add_argument("--status", help="Layer statuses, as in exports (default: adjudicated for gold).")
        parser.add_argument("--wait", action="store_true", help="Wait until the job ends.")
        parser.add_argument("--timeout", type=float, default=3600.0, help="Seconds --wait waits at most.")

    def handle(self, *args: Any, project: str, layer: str, status: str | None, wait: bool, timeout: float,
               **options: Any) -> None:  # fmt: skip
        target = Project.objects.filter(slug=project).first()
        if target is None:
            raise CommandError(f"unknown project {project!r}")
        try:
            with transaction.atomic():
                job = link_events_start(project=target, layer=layer, status=status)
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from exc
        self.stdout.write(f"job {job.pk}: linking the events of {target.slug} ({layer})")
        if not wait:
            return
        deadline = time.monotonic() + timeout
        while True:
            job.refresh_from_db()
            if job.status in (Job.Status.SUCCEEDED, Job.Status.FAILED):
                break
            if time.monotonic() > deadline:
                raise CommandError(f"job {job.pk} still {job.status} after {timeout:g} s; is a worker running?")
            time.sleep(0.3)
        if job.status == Job.Status.FAILED:
            raise CommandError(f"job {job.pk} failed: {job.error}")
        counts = ", ".join(f"{k} {v}" for k, v in sorted(job.counts.items()))
        self.stdout.write(f"job {job.pk} succeeded: {counts}")
