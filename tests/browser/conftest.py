"""Browser tests: Playwright for Python driving Debian's Chromium against pytest-django's live server.

Locally they skip when /usr/bin/chromium is missing; in CI (WORKBENCH_REQUIRE_SERVICES=1) that is
a failure. Playwright's sync API runs an event loop in this thread, which makes Django refuse ORM
calls from the test body unless DJANGO_ALLOW_ASYNC_UNSAFE is set; the live server runs in its
own thread, so create data before navigating and never call the ORM inside a Playwright callback.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest
from django.conf import settings

from annotations.management.commands.bootstrap_demo import DEMO_USERS, PROJECT_NAME, PROJECT_SLUG
from annotations.models import Article, Layer, Project
from annotations.services.assignment import articles_assign
from annotations.services.demo import demo_bootstrap
from tests.browser.helpers import machine_mentions
from tests.conftest import require_service

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTICLE_TITLE = "West Africa: Russia sends military trainers to Niger"
PASSWORD = DEMO_USERS["annotator1"].password
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "artifacts"


@pytest.fixture(scope="session")
def chromium():
    require_service(CHROMIUM.exists(), "Chromium (/usr/bin/chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(chromium, live_server):
    """new_page() → a page in a fresh browser context (its own cookies), closed after the test."""
    contexts = []

    def make():
        context = chromium.new_context(viewport={"width": 1440, "height": 960}, base_url=live_server.url)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.dialogs = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
        return page

    yield make
    for context in contexts:
        # Let requests in flight finish first: a live-server thread still inside a transaction
        # when the test database is flushed deadlocks the flush on PostgreSQL.
        for page in context.pages:
            with contextlib.suppress(Exception):  # a page that never settles is closed all the same
                page.wait_for_load_state("networkidle", timeout=10_000)
        context.close()


@pytest.fixture
def artifacts():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def seeds(transactional_db):
    """The demo project from seeds/ with its users; the article assigned to both annotators."""
    demo_bootstrap(slug=PROJECT_SLUG, name=PROJECT_NAME, seeds_dir=settings.SEEDS_DIR, users=DEMO_USERS)
    project = Project.objects.get(slug=PROJECT_SLUG)
    article = Article.objects.get(project=project, title=ARTICLE_TITLE)
    machine_mentions(article, [("Russia", "GPE", 0), ("Niger", "GPE", 0), ("Europe", "LOC", 0), ("USA", "GPE", 0)])
    articles_assign(project=project, overlap=2)
    layer = Layer.objects.get(article=article, annotator__username="annotator1")
    return project, article, layer
