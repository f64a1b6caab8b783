"""`manage.py serve`: what `make run` starts — a Celery worker with Celery beat inside it (which
sends the stuck-job sweep, `annotations/services/job_sweep.py`), pre-annotation of new articles,
and the web server. Stopping it (Ctrl-C) stops the worker too."""

from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
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
        parser.add_argument("--port", default=os.environ.get("PORT") or "8000", help="Default: $PORT, else 8000.")
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
        self.stdout.write(
            f"starting a Celery worker ({concurrency} processes, broker {broker}) with beat (the stuck-job sweep "
            f"every {settings.JOB_SWEEP_INTERVAL} s); log: {log_path}"
        )
        worker = worker_start(concurrency=concurrency, log_path=log_path, beat=True)
        atexit.register(worker_stop, worker)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))


def worker_start(*, concurrency: int, log_path: Path, beat: bool = False) -> subprocess.Popen[bytes]:
    """A `celery worker` in a session of its own (Ctrl-C in the terminal reaches only `serve`); with
    `beat`, Celery beat runs inside it (one machine, one worker: no separate scheduler needed)."""
    log = log_path.open("ab")
    embedded_beat = ["--beat", "--schedule", settings.CELERY_BEAT_SCHEDULE_FILENAME] if beat else []
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "workbench", "worker", "--loglevel", "INFO",
         "--concurrency", str(concurrency), "-Q", settings.CELERY_TASK_DEFAULT_QUEUE, *embedded_beat],
        cwd=settings.BASE_DIR, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip


def worker_stop(worker: subprocess.Popen[bytes], timeout: float = 15) -> None:
    """A warm shutdown: SIGTERM to the worker's main process only, which lets its pool processes
    finish their task and exit. (SIGTERM to the whole process group killed the pool processes under
    the main process, which logged each as an ERROR "exited with signal 15".) SIGKILL to the
    group if it is still there after `timeout` seconds."""
    if worker.poll() is None:
        os.kill(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
