"""Settings come from the environment, with safe development defaults and loud production failures."""

import os
import subprocess
import sys

from django.conf import settings


def run_check(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "DATABASE_URL"}}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-c", "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', "
         "'workbench.settings'); django.setup(); from django.conf import settings; "
         "print(settings.DATABASES['default']['ENGINE'], settings.CELERY_BROKER_URL, settings.ALLOWED_HOSTS)"],
        cwd=settings.BASE_DIR, env=clean, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_production_refuses_to_start_without_a_secret_key():
    result = run_check(DEBUG="0")

    assert result.returncode == 1
    assert "SECRET_KEY must be set when DEBUG is off." in result.stderr


def test_production_starts_with_a_secret_key_and_its_hosts():
    result = run_check(DEBUG="0", SECRET_KEY="x" * 50, ALLOWED_HOSTS="workbench.example.org")

    assert result.returncode == 0, result.stderr
    assert "['workbench.example.org']" in result.stdout


def test_development_defaults_need_no_services():
    result = run_check(CELERY_BROKER_URL="")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:2] == ["django.db.backends.sqlite3", "filesystem://localhost/"]


def test_a_filesystem_broker_url_without_a_host_gets_one():
    result = run_check(CELERY_BROKER_URL="filesystem://")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[1] == "filesystem://localhost/"


def test_database_url_selects_postgresql():
    result = run_check(DATABASE_URL="postgres://u:p@db.example.org:5432/wb")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "django.db.backends.postgresql"


def test_requests_are_atomic():
    assert settings.DATABASES["default"]["ATOMIC_REQUESTS"] is True
