"""Shared fixtures.

Tests that need a real service (Redis, PostgreSQL, a Celery worker, Chromium) call
`require_service`: locally a missing service skips with a message; with
WORKBENCH_REQUIRE_SERVICES=1 (set by CI) it fails instead.
"""

from __future__ import annotations

import os

import pytest
from django.core.cache import cache

from tests.factories import ArticleFactory, LayerFactory, ProjectFactory, UserFactory

REQUIRE_SERVICES = os.environ.get("WORKBENCH_REQUIRE_SERVICES", "") not in ("", "0", "false")


def require_service(available: bool, what: str) -> None:
    """Skip (locally) or fail (in CI) when a real service a test needs is missing."""
    if available:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required (WORKBENCH_REQUIRE_SERVICES is set) but not available")
    pytest.skip(f"{what} is not available here; CI runs this test for real")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The default PBKDF2 hasher makes every user a factory creates cost ~0.3 s.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_throttle_counts():
    # The API throttles count requests in the cache (per process): each test starts from none.
    cache.clear()


@pytest.fixture
def project(db):
    return ProjectFactory()


@pytest.fixture
def article(project):
    return ArticleFactory(project=project)


@pytest.fixture
def annotator(db):
    return UserFactory(username="annotator1")


@pytest.fixture
def layer(article, annotator):
    return LayerFactory(article=article, annotator=annotator)


@pytest.fixture
def worker_queue(settings):
    """A queue of the test's own: tasks the test publishes go there and only its workers read it."""
    import uuid

    settings.CELERY_TASK_DEFAULT_QUEUE = f"test-{uuid.uuid4().hex[:10]}"
    return settings.CELERY_TASK_DEFAULT_QUEUE


@pytest.fixture
def start_worker(transactional_db, worker_queue):
    """Start real `celery worker` processes on the test database; all are stopped afterwards."""
    from tests.workers import WorkerProcess, broker_reachable

    require_service(broker_reachable(), "the Celery broker (CELERY_BROKER_URL)")
    started: list[WorkerProcess] = []

    def start(concurrency: int = 1, beat: bool = False, **extra_env: str) -> WorkerProcess:
        worker = WorkerProcess(worker_queue, concurrency=concurrency, extra_env=extra_env, beat=beat).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
        worker.log_path.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def s3_endpoint():
    """A real S3-compatible server (moto's, over HTTP on loopback) for the whole run."""
    from tests.storage_backends import moto_s3_endpoint

    yield from moto_s3_endpoint()


@pytest.fixture(params=["local", "s3"])
def backend(request, settings, tmp_path, monkeypatch):
    """Each test twice: stored files in a fresh local data directory, then in a fresh bucket."""
    from tests.storage_backends import use_backend

    return use_backend(request.param, request, settings, tmp_path, monkeypatch)
