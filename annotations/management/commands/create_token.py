"""python manage.py create_token --user NAME"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotations.services.projects import token_for_user


class Command(BaseCommand):
    help = "Print a user's REST API token (`Authorization: Token KEY`), creating it if the user has none."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, help="Username of an existing user.")

    def handle(self, *args: Any, user: str, **options: Any) -> None:
        model = get_user_model()
        found = model._default_manager.filter(**{model.USERNAME_FIELD: user}).first()
        if found is None:
            raise CommandError(f"no user named {user!r}; create it first (createsuperuser, or the admin)")
        key, created = token_for_user(user=found)
        self.stdout.write(key)
        self.stderr.write(f"{'Created' if created else 'Existing'} token of {user}.")
