"""System checks of a production deployment (DEBUG off).

- `workbench.E001`: a demo account (`bootstrap_demo`) still has its demo password, which the README
  and the command print for anyone to read. Change it (`manage.py changepassword NAME`) or
  deactivate the account. A database check: it runs with `migrate` and `check --database default`,
  so a deployment with public passwords stops at its `migrate`.
- `workbench.W001` (with `--deploy`): the SECRET_KEY is one printed in this repository.

Django's own `check --deploy` covers the rest (HSTS, secure cookies, SSL redirect, the key's
length); `workbench/settings.py` sets them from HTTPS=1.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.db import DatabaseError

from annotations.demo_accounts import DEMO_USERS

# Keys that appear in this repository (the development default, the examples): never a secret.
KNOWN_SECRET_KEYS = frozenset(
    {
        "django-insecure-development-only-key-do-not-use-in-production",
        "bench-only",
        "bench-writes-only-not-a-secret",
        "change-me",
        "changeme",
        "secret",
    }
)


@register(Tags.security, Tags.database)
def demo_passwords_check(app_configs: Any = None, databases: Any = None, **kwargs: Any) -> list[CheckMessage]:
    # A database check, as Django runs them: with `migrate` and `check --database default`.
    if settings.DEBUG or not databases:
        return []
    try:
        users = list(get_user_model().objects.filter(username__in=list(DEMO_USERS), is_active=True))
    except DatabaseError:  # not migrated yet: no accounts to look at
        return []
    public = sorted(user.username for user in users if user.check_password(DEMO_USERS[user.username].password))
    if not public:
        return []
    return [
        Error(
            f"DEBUG is off and the demo account(s) {', '.join(public)} still have the demo password printed in "
            "the README and by bootstrap_demo.",
            hint="Change each password (manage.py changepassword NAME) or deactivate the account in the admin.",
            id="workbench.E001",
        )
    ]


@register(Tags.security, deploy=True)
def known_secret_key_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if settings.SECRET_KEY in KNOWN_SECRET_KEYS or settings.SECRET_KEY.startswith("bench-only-"):
        return [
            Warning(
                "SECRET_KEY is a value printed in this repository, not a secret.",
                hint="Generate one: python3 -c 'import secrets; print(secrets.token_urlsafe(50))'",
                id="workbench.W001",
            )
        ]
    return []
