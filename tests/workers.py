"""Real Celery worker processes for integration tests.

A worker runs `celery -A workbench worker` as a separate process on the test database and the
configured broker (Redis in CI, the filesystem broker locally), on a queue of its own so that a
developer's running worker can't take the test's tasks.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.db import connection

from workbench.celery import app

BASE_DIR = Path(settings.BASE_DIR)


def test_database_url() -> str:
    """The URL of the database the tests are using right now (pytest-django's test database)."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    if connection.vendor == "postgresql":
        auth = s["USER"] or ""
        if s.get("PASSWORD"):
            auth += f":{s['PASSWORD']}"
        host = f"{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}"
        return f"postgres://{auth}@{host}/{s['NAME']}"
    raise RuntimeError(f"no worker URL for database vendor {connection.vendor}")


def broker_reachable() -> bool:
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:
        return False


def service_env(**overrides: str) -> dict[str, str]:
    """Environment for a child process that must use the test database and the test's queue."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=test_database_url(),
        CELERY_QUEUE=settings.CELERY_TASK_DEFAULT_QUEUE,
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        WORKBENCH_VAR_DIR=str(settings.VAR_DIR),
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


def run_manage(*args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `manage.py ARGS` as a separate process on the test database."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=service_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


class WorkerProcess:
    """One `celery worker` process; `start()` waits until it has answered a task."""

    def __init__(
        self, queue: str, *, concurrency: int = 1, extra_env: dict[str, str] | None = None, beat: bool = False
    ):
        self.queue = queue
        self.concurrency = concurrency
        self.extra_env = extra_env or {}
        self.beat = beat
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = BASE_DIR / "var" / f"test-worker-{queue}-{uuid.uuid4().hex[:6]}.log"

    def start(self) -> WorkerProcess:
        env = service_env(CELERY_QUEUE=self.queue, **self.extra_env)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        beat = ["--beat", "--schedule", str(self.log_path.with_suffix(".beat"))] if self.beat else []
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "workbench", "worker",
                "-Q", self.queue, "-n", f"{self.queue}-{uuid.uuid4().hex[:6]}@%h",
                "--concurrency", str(self.concurrency), "--pool", "prefork",
                "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "INFO", *beat,
            ],
            cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        return self

    def kill(self) -> None:
        """SIGKILL the whole process group: the main process and its pool children, mid-task."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class RedisServer:
    """A redis-server of the test's own (never the shared one): no persistence, so `restart()` is
    Redis coming back without its data."""

    def __init__(self, directory: Path):
        self.directory = directory
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        wait_for(self.ping, timeout=10, interval=0.05, what=f"redis-server on port {self.port}")
        return self

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def restart(self) -> None:
        """Killed and started again on the same port, empty: every queued and unacked message is gone."""
        self.stop()
        self.start()


def wait_for(predicate, *, timeout: float, interval: float = 0.2, what: str = "condition") -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
