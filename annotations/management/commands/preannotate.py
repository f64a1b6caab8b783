"""`manage.py preannotate --project SLUG [--articles ID …] [--wait]`: start a pre-annotation job."""

from __future__ import annotations

import sys
import time
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from annotations.models import Job, Project
from annotations.services.preannotation import preannotation_start


def progress_bar(done: int, total: int, width: int = 30) -> str:
    filled = int(width * done / total) if total else width
    percent = 100 * done // total if total else 100
    return f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total} ({percent}%)"


class Command(BaseCommand):
    help = "Pre-annotate a project's articles with spaCy on the Celery workers."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--project", required=True, help="Project slug.")
        parser.add_argument("--articles", nargs="+", type=int, metavar="ID", help="Only these article ids.")
        parser.add_argument("--chunk-size", type=int, help="Articles per task (default PREANNOTATE_CHUNK_SIZE).")
        parser.add_argument("--wait", action="store_true", help="Show progress until the job ends.")
        parser.add_argument("--timeout", type=float, default=3600.0, help="Seconds --wait waits at most.")

    def handle(self, *args: Any, project: str, articles: list[int] | None, chunk_size: int | None,
               wait: bool, timeout: float, **options: Any) -> None:  # fmt: skip
        try:
            target = Project.objects.get(slug=project)
        except Project.DoesNotExist as exc:
            raise CommandError(f"unknown project {project!r}") from exc
        try:
            job = preannotation_start(project=target, article_ids=articles, chunk_size=chunk_size)
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from exc
        job.refresh_from_db()
        if job.status == Job.Status.FAILED:
            raise CommandError(f"job {job.pk} failed: {job.error}")
        self.stdout.write(f"job {job.pk}: pre-annotating {job.total} article(s) of {target.slug}")
        if not wait:
            return
        self._wait(job, timeout)

    def _wait(self, job: Job, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        interactive = sys.stdout.isatty()
        last = None
        while True:
            job.refresh_from_db()
            line = f"{progress_bar(job.done, job.total)} {job.status}"
            if line != last:
                if interactive:
                    self.stdout.write("\r" + line, ending="")
                else:
                    self.stdout.write(line)
                last = line
            if job.status in (Job.Status.SUCCEEDED, Job.Status.FAILED):
                break
            if time.monotonic() > deadline:
                raise CommandError(f"job {job.pk} still {job.status} after {timeout:g} s; is a worker running?")
            time.sleep(0.5)
        if interactive:
            self.stdout.write("")
        if job.status == Job.Status.FAILED:
            raise CommandError(f"job {job.pk} failed: {job.error}")
        counts = ", ".join(f"{k} {v}" for k, v in sorted(job.counts.items()))
        self.stdout.write(f"job {job.pk} succeeded ({job.model_version}): {counts}")
