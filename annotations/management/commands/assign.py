"""python manage.py assign --project SLUG [--overlap K] [--annotators a,b]

The command-line twin of the admin action "Assign to annotators": each article of the project
gets K annotators (default: the project's overlap), least-loaded first. Safe to re-run: only
what is missing is assigned.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotations.models import Project
from annotations.services.assignment import articles_assign


class Command(BaseCommand):
    help = "Assign the project's articles to its annotators with overlap K (re-running assigns only what is missing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", required=True, help="The project's slug.")
        parser.add_argument("--overlap", type=int, help="Annotators per article (default: the project's overlap).")
        parser.add_argument(
            "--annotators", help="Comma-separated usernames to assign to (default: every annotator of the project)."
        )

    def handle(self, *args: Any, project: str, overlap: int | None, annotators: str | None, **options: Any) -> None:
        found = Project.objects.filter(slug=project).first()
        if found is None:
            raise CommandError(f"no project {project!r}")
        chosen = None
        if annotators:
            names = [name.strip() for name in annotators.split(",") if name.strip()]
            users = {u.get_username(): u for u in get_user_model().objects.filter(username__in=names)}
            unknown = [name for name in names if name not in users]
            if unknown:
                raise CommandError(f"no such user(s): {', '.join(unknown)}")
            chosen = [users[name] for name in names]
        try:
            result = articles_assign(project=found, overlap=overlap, annotators=chosen)
        except ValidationError as exc:
            problems = [f"{field}: {m}" for field, messages in exc.message_dict.items() for m in messages]
            raise CommandError("nothing assigned:\n" + "\n".join(f"  - {p}" for p in problems)) from exc
        self.stdout.write(result.summary())
