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
