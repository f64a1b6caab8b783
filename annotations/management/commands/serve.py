"""`manage.py serve`: what `make run` starts — a Celery worker, pre-annotation of new articles,
and the web server. Stopping it (Ctrl-C) stops the worker too."""

from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from annotations.models import Job, Layer, Project
from annotations.services.preannotation import preannotation_start


class Command(BaseCommand):
    help = "Start a Celery worker, pre-annotate articles that have no suggestions yet, and serve the admin."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", default="8000")
        parser.add_argument("--concurrency", type=int, default=min(2, os.cpu_count() or 1))
        parser.add_argument("--no-worker", action="store_true", help="Serve only (a worker runs elsewhere).")

    def handle(self, *args: Any, host: str, port: str, concurrency: int, no_worker: bool, **options: Any) -> None:
        # runserver leaves with os._exit on a busy port, past any clean-up: check before the worker starts.
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, int(port)))
            except OSError as exc:
                raise CommandError(
                    f"cannot serve on {host}:{port}: {exc.strerror}. Is `make run` already running?"
                ) from exc
        if not no_worker:
            self._start_worker(concurrency)
        for project in Project.objects.all():
            ids = list(
                project.articles.exclude(layers__kind=Layer.Kind.MACHINE).order_by("id").values_list("id", flat=True)
            )
            if ids:
                job = preannotation_start(project=project, article_ids=ids)
                job.refresh_from_db()
                if job.status == Job.Status.FAILED:
                    self.stderr.write(f"pre-annotation of {project.slug} could not start: {job.error}")
                else:
                    self.stdout.write(
                        f"pre-annotating {len(ids)} article(s) of {project.slug} (job {job.pk}; "
                        "progress under Annotation > Jobs in the admin)"
                    )
        self.stdout.write(f"admin: http://{host}:{port}/admin/   API docs: http://{host}:{port}/api/docs/")
        call_command("runserver", f"{host}:{port}", use_reloader=False)

    def _start_worker(self, concurrency: int) -> None:
        broker = settings.CELERY_BROKER_URL.split("@")[-1]
        log_path = settings.VAR_DIR / "worker.log"
        self.stdout.write(f"starting a Celery worker ({concurrency} processes, broker {broker}); log: {log_path}")
        log = log_path.open("ab")
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "workbench", "worker", "--loglevel", "INFO",
             "--concurrency", str(concurrency), "-Q", settings.CELERY_TASK_DEFAULT_QUEUE],
            cwd=settings.BASE_DIR, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

        def stop_worker() -> None:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
                try:
                    worker.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(worker.pid, signal.SIGKILL)

        atexit.register(stop_worker)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
