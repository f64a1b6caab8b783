"""Shared fixtures.

Tests that need a real service (Redis, PostgreSQL, a Celery worker, Chromium) call
`require_service`: locally a missing service skips with a message; with
WORKBENCH_REQUIRE_SERVICES=1 (set by CI) it fails instead.
"""

from __future__ import annotations

import os

import pytest

from tests.factories import ArticleFactory, LayerFactory, ProjectFactory, UserFactory

REQUIRE_SERVICES = os.environ.get("WORKBENCH_REQUIRE_SERVICES", "") not in ("", "0", "false")


def require_service(available: bool, what: str) -> None:
    """Skip (locally) or fail (in CI) when a real service a test needs is missing."""
    if available:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required (WORKBENCH_REQUIRE_SERVICES is set) but not available")
    pytest.skip(f"{what} is not available here; CI runs this test for real")


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
