"""Access limits and deploy settings: API throttles, login attempt limiting, `check --deploy`,
the Content-Security-Policy header and the demo accounts in production."""

from __future__ import annotations

import io
import logging
import os
import secrets
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import Client
from rest_framework.test import APIClient

from annotations.demo_accounts import DEMO_USERS
from tests.factories import UserFactory
from tests.test_api_helpers import ROLES, client_for, member, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(settings):
    def set_rates(user: str = "6000/minute", anon: str = "300/minute") -> None:
        settings.REST_FRAMEWORK = {
            **django_settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {"user": user, "anon": anon},
        }

    return set_rates


# --- API throttles ------------------------------------------------------------------------------


def test_a_token_over_its_rate_gets_429_with_retry_after_and_other_tokens_do_not(project, rates):
    rates(user="3/minute")
    busy = client_for(member(project, ROLES.CONSUMER), token=True)
    calm = client_for(member(project, ROLES.CONSUMER), token=True)

    answers = [busy.get(url(project)).status_code for _ in range(4)]
    throttled = busy.get(url(project))

    assert answers == [200, 200, 200, 429]
    assert int(throttled["Retry-After"]) > 0
    assert calm.get(url(project)).status_code == 200


def test_anonymous_requests_and_wrong_tokens_share_the_addresss_rate(project, rates):
    rates(anon="3/minute")
    guesser = APIClient()
    guesser.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    schema = APIClient().get("/api/v1/health/")
    guesses = [guesser.get(url(project)).status_code for _ in range(3)]

    assert schema.status_code == 200
    assert guesses == [401, 401, 429]


def test_the_default_rates_leave_a_busy_client_alone(project):
    client = client_for(member(project, ROLES.CONSUMER), token=True)

    assert {client.get(url(project)).status_code for _ in range(100)} == {200}


# --- Login attempt limiting (django-axes) -------------------------------------------------------


def login(client: Client, username: str, password: str):
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password})


def test_twenty_bad_passwords_lock_the_account_until_the_cool_off_ends(settings, caplog):
    settings.AXES_COOLOFF_TIME = timedelta(seconds=3)
    UserFactory(username="boss", is_staff=True, is_superuser=True, password="right-password")
    client = Client()

    with caplog.at_level(logging.WARNING, logger="axes"):
        bad = [login(client, "boss", f"wrong-{i}").status_code for i in range(20)]
    locked = login(client, "boss", "right-password")
    from_elsewhere = login(Client(REMOTE_ADDR="10.9.8.7"), "boss", "right-password")

    assert bad == [200] * 19 + [429]  # the form again, then the lock
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    assert from_elsewhere.status_code == 429  # the account is locked, not only the address
    assert any("Locking out" in record.getMessage() and "boss" in record.getMessage() for record in caplog.records)

    time.sleep(3.1)
    after = login(client, "boss", "right-password")

    assert after.status_code == 302
    assert client.session["_auth_user_id"]


# --- Deploy settings ----------------------------------------------------------------------------


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # The browser tests' DJANGO_ALLOW_ASYNC_UNSAFE is for their process only (a deployment never sets it).
    dropped = {"SECRET_KEY", "DEBUG", "HTTPS", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    keep = {k: v for k, v in os.environ.items() if k not in dropped}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=django_settings.BASE_DIR,
        env={**keep, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_reports_nothing_with_https_and_a_real_key(tmp_path):
    result = manage(
        "check",
        "--deploy",
        DEBUG="0",
        HTTPS="1",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="workbench.example.org",
        DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite3'}",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."


def test_check_deploy_names_a_short_or_known_secret_key_and_plain_http(tmp_path):
    known = manage(
        "check",
        "--deploy",
        DEBUG="0",
        SECRET_KEY="bench-writes-only-not-a-secret",
        ALLOWED_HOSTS="workbench.example.org",
        DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite3'}",
    )

    output = known.stderr + known.stdout
    for check in ("workbench.W001", "security.W009", "security.W008", "security.W012", "security.W016"):
        assert check in output


def test_pages_carry_a_content_security_policy_without_inline_scripts():
    response = Client().get("/admin/login/")

    policy = response["Content-Security-Policy"]
    assert "script-src 'self';" in policy
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in policy


def test_the_swagger_page_loads_its_start_up_script_from_a_file():
    client = Client()
    page = client.get("/api/docs/")
    script = client.get("/api/docs/?script=")

    assert page.status_code == 200
    assert b"<script>" not in page.content.replace(b" ", b"")
    assert script.status_code == 200
    assert b"SwaggerUIBundle" in script.content


# --- Demo accounts in production ----------------------------------------------------------------


def demo_accounts(password_of=lambda name: DEMO_USERS[name].password) -> None:
    for name, demo in DEMO_USERS.items():
        UserFactory(username=name, is_staff=demo.is_staff, password=password_of(name))


def test_with_debug_off_a_demo_password_fails_the_system_check(settings):
    settings.DEBUG = False
    demo_accounts(lambda name: "changed-" + secrets.token_hex(8) if name != "reviewer" else DEMO_USERS[name].password)

    with pytest.raises(SystemCheckError) as raised:
        call_command("check", "--database", "default")

    assert "workbench.E001" in str(raised.value)
    assert "demo account(s) reviewer still have the demo password" in str(raised.value)


def test_changed_demo_passwords_or_debug_on_pass_the_check(settings):
    demo_accounts()
    settings.DEBUG = True
    call_command("check", "--database", "default")  # DEBUG on: a demo, the passwords are meant to be public

    settings.DEBUG = False
    for user in get_user_model().objects.all():
        user.set_password(secrets.token_hex(12))
        user.save()
    call_command("check", "--database", "default")  # DEBUG off, every demo password changed


def test_bootstrap_demo_with_force_and_debug_off_prints_the_warning(settings):
    settings.DEBUG = False
    err = io.StringIO()

    call_command("bootstrap_demo", "--force", stdout=io.StringIO(), stderr=err)

    assert "WARNING: DEBUG is off and these demo accounts have public passwords." in err.getvalue()
    assert "workbench.E001" in err.getvalue()
