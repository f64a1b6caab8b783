"""python manage.py bootstrap_demo [--force] [--host H] [--port P]: the demo project, users and token.
Safe to re-run. --host and --port (default: $PORT, as `serve`) are where `make run` serves, for the
URLs it prints."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotations.demo_accounts import DEMO_USERS
from annotations.services.demo import DEMO_ACTORS_FILE, demo_bootstrap

PROJECT_SLUG = "seeds"
PROJECT_NAME = "Seed articles — Russia–Niger military cooperation"

DEMO_PASSWORDS_WARNING = (
    "WARNING: DEBUG is off and these demo accounts have public passwords. Change each one "
    "(manage.py changepassword NAME) or deactivate it: until then the system check workbench.E001 "
    "stops migrate and `check --database default`."
)


class Command(BaseCommand):
    help = "Create the demo project from seeds/, the demo users with public passwords, and an API token."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="Run even with DEBUG off (the passwords are public).")
        parser.add_argument("--host", default="127.0.0.1", help="Where the admin is served, for the printed URLs.")
        parser.add_argument(
            "--port", default=os.environ.get("PORT") or "8000", help="Its port (default: $PORT, else 8000)."
        )

    def handle(self, *args: Any, force: bool, host: str, port: str, **options: Any) -> None:
        if not settings.DEBUG and not force:
            raise CommandError(
                "DEBUG is off and the demo passwords are public; nothing done. Pass --force to run anyway."
            )
        seeds_dir = settings.SEEDS_DIR
        report = demo_bootstrap(slug=PROJECT_SLUG, name=PROJECT_NAME, seeds_dir=seeds_dir, users=DEMO_USERS)
        write = self.stdout.write
        state = "created" if report.project_created else "already there"
        write(f"Project {report.project.slug!r} ({report.project.name}): {state}")
        write(f"Articles from {seeds_dir}: {report.articles.summary()}")
        if report.actors is not None:
            actors = report.actors
            write(
                f"Actors from {seeds_dir / DEMO_ACTORS_FILE}: created {actors.created}, updated {actors.updated}, "
                f"unchanged {actors.unchanged}"
            )
        elif not report.actor_errors:
            write(f"Actors: no {seeds_dir / DEMO_ACTORS_FILE}; the actor registry was not loaded")
        if report.assignment is not None:
            write(f"Assignment: {report.assignment.summary()}")
        write("Users (username / password / role):")
        for username, demo in DEMO_USERS.items():
            kind = "superuser" if demo.is_superuser else "staff" if demo.is_staff else "API only"
            write(f"  {username:<11} {demo.password:<21} {demo.role:<10} {kind:<9} {report.users[username]}")
        for username, key in report.tokens.items():
            write(f"API token for {username}: {key}  (send it as the header 'Authorization: Token <token>')")
        write(f"Admin:    http://{host}:{port}/admin/")
        write(f"API docs: http://{host}:{port}/api/docs/")
        for error in report.errors:
            self.stderr.write(error)
        if not settings.DEBUG:
            self.stderr.write(DEMO_PASSWORDS_WARNING)
        if report.errors:
            raise CommandError(f"{len(report.errors)} error(s) while loading the seeds; see above")
