"""The demo bootstrap: the seed articles in a project, the actor registry, demo users and a token."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.db import transaction
from rest_framework.authtoken.models import Token

from annotations.demo_accounts import DemoUser
from annotations.errors import ImportFailed
from annotations.models import Membership, Project
from annotations.services.actors import ActorLoad, actors_load_file
from annotations.services.assignment import AssignmentResult, articles_assign
from annotations.services.imports import (
    ImportReport,
    import_paths,
)
from annotations.services.projects import membership_set, project_create

# The actor registry file looked for in the seeds folder by the demo bootstrap.
DEMO_ACTORS_FILE = "actors.jsonl"
# The guidelines the demo project shows beside the text (the `h` panel and the guidelines page).
DEMO_GUIDELINES_FILE = "guidelines.md"
# Every seed article goes to this many of the demo annotators, so the demo opens on work.
DEMO_OVERLAP = 2


@transaction.atomic
def user_ensure(*, username: str, password: str, is_staff: bool, is_superuser: bool) -> tuple[AbstractUser, str]:
    """Create the user, or bring an existing one in line; returns (user, what changed).

    The password is set only when it doesn't already work: re-hashing a working one would
    change the row (new salt) on every run.
    """
    user, created = get_user_model().objects.get_or_create(username=username)
    wanted = {"is_staff": is_staff, "is_superuser": is_superuser}
    changes = [] if created else [flag for flag, value in wanted.items() if getattr(user, flag) != value]
    user.is_staff, user.is_superuser = is_staff, is_superuser
    if created or not user.check_password(password):
        user.set_password(password)
        changes.append("password")
    if created or changes:
        user.save()
    if created:
        return user, "created"
    return user, f"updated {', '.join(changes)}" if changes else "unchanged"


@dataclass
class DemoReport:
    project: Project
    project_created: bool
    articles: ImportReport
    users: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    actors: ActorLoad | None = None
    assignment: AssignmentResult | None = None
    actor_errors: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        return self.articles.errors + self.actor_errors


def demo_bootstrap(*, slug: str, name: str, seeds_dir: Path, users: dict[str, DemoUser]) -> DemoReport:
    """The demo project from the seed .txt files, its users, API tokens and the actor registry.

    The seed articles are assigned to the demo annotators with overlap 2 (fewer if there are
    fewer annotators), through the same service as the admin's "Assign to annotators".

    Idempotent: a second run finds every article a duplicate, every user and token in place, and
    every article already assigned.
    """
    project = Project.objects.filter(slug=slug).first()
    project_created = project is None
    if project is None:
        guidelines_file = seeds_dir / DEMO_GUIDELINES_FILE
        guidelines = guidelines_file.read_text(encoding="utf-8") if guidelines_file.exists() else ""
        # The seeds bring their own actor registry (loaded below), and their annotation guidelines.
        project = project_create(slug=slug, name=name, guidelines=guidelines, load_default_actors=False)
    report = DemoReport(
        project=project,
        project_created=project_created,
        articles=import_paths(project=project, paths=sorted(seeds_dir.glob("*.txt"))),
    )
    annotators = []
    for username, demo in users.items():
        user, report.users[username] = user_ensure(
            username=username, password=demo.password, is_staff=demo.is_staff, is_superuser=demo.is_superuser
        )
        membership_set(project=project, user=user, role=demo.role)
        if demo.role == Membership.Role.ANNOTATOR:
            annotators.append(user)
        if demo.api_token:
            token, _ = Token.objects.get_or_create(user=user)
            report.tokens[username] = token.key
    if annotators:
        report.assignment = articles_assign(
            project=project, overlap=min(DEMO_OVERLAP, len(annotators)), annotators=annotators
        )
    actors_path = seeds_dir / DEMO_ACTORS_FILE
    if actors_path.exists():
        try:
            report.actors = actors_load_file(path=actors_path)
        except ImportFailed as exc:
            report.actor_errors = exc.errors
    return report
