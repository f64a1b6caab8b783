"""A real Celery worker process, on the configured broker and the test database."""

import os

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from annotations.models import Job
from tests.conftest import REQUIRE_SERVICES


def test_ci_runs_on_postgresql_and_redis():
    # Given CI's flag, the suite must be talking to the real services, not the embedded defaults.
    if not REQUIRE_SERVICES:
        pytest.skip("only checked in CI (WORKBENCH_REQUIRE_SERVICES=1)")
    assert connection.vendor == "postgresql"
    assert settings.CELERY_BROKER_URL.startswith("redis://")


@pytest.mark.services
def test_worker_round_trip_writes_a_row(start_worker, capsys):
    # Given a worker process on the broker and the test database
    worker = start_worker()

    # When the check task goes through the broker
    try:
        call_command("check_worker", "--timeout", "60")
    except CommandError as exc:
        pytest.fail(f"{exc}; the worker's log:\n{worker.output()}")

    # Then the worker process (not this one) wrote the job row
    job = Job.objects.get(kind=Job.Kind.HEALTHCHECK)
    assert job.status == Job.Status.SUCCEEDED
    assert job.counts["worker_pid"] != os.getpid()
    assert f"worker ok: job {job.pk}" in capsys.readouterr().out


def test_check_worker_reports_an_unreachable_broker(transactional_db):
    # Given a broker address where nothing listens
    from tests.workers import run_manage

    # When the check runs against it
    result = run_manage("check_worker", "--timeout", "1", CELERY_BROKER_URL="redis://127.0.0.1:1/0")

    # Then it fails with a message naming the broker, and the job row says why
    assert result.returncode == 1
    assert "could not reach the task broker (redis://127.0.0.1:1/0)" in result.stderr
    job = Job.objects.get(kind=Job.Kind.HEALTHCHECK)
    assert job.status == Job.Status.FAILED
    assert "redis://127.0.0.1:1/0" in job.error


def test_a_command_on_the_embedded_broker_logs_no_hostname_warning(transactional_db, worker_queue, tmp_path):
    # Given the default broker (kombu's filesystem transport) and no worker on the test's queue
    from tests.workers import run_manage

    # When a command sends a task through it
    result = run_manage(
        "check_worker", "--timeout", "0.5", CELERY_BROKER_URL="", WORKBENCH_VAR_DIR=str(tmp_path / "var")
    )

    # Then it says only what matters: no worker answered, and no kombu warning about a hostname
    assert "no worker ran the check within 0.5 s" in result.stderr
    assert "hostname" not in result.stderr + result.stdout


def test_serve_stops_its_worker_and_beat_with_a_warm_shutdown_and_no_error(worker_queue, tmp_path, settings):
    # Given the worker `serve` starts with beat inside (the stuck-job sweep), ready to take tasks
    from annotations.management.commands.serve import worker_start, worker_stop
    from tests.workers import wait_for

    log_path = tmp_path / "worker.log"
    settings.CELERY_BEAT_SCHEDULE_FILENAME = str(tmp_path / "celerybeat-schedule")
    worker = worker_start(concurrency=2, log_path=log_path, beat=True)
    try:
        wait_for(lambda: b" ready." in log_path.read_bytes(), timeout=60, what="the worker to be ready")
        wait_for(lambda: b"beat: Starting" in log_path.read_bytes(), timeout=30, what="beat to start")
    finally:
        # When serve stops it (Ctrl-C, or SIGTERM to serve)
        worker_stop(worker)

    # Then the worker shut down warm, and logged no error about its pool processes
    log = log_path.read_text()
    assert worker.returncode == 0, log
    assert "Warm shutdown" in log
    assert "ERROR" not in log
