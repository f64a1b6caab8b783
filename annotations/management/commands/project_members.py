"""python manage.py project_members --project SLUG [--add USER:ROLE ...] [--remove USER ...] [--list]"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from annotations.models import Membership, Project
from annotations.services.projects import check_members, membership_remove, membership_set


class Command(BaseCommand):
    help = (
        "Add members to a project or change their role (--add USER:ROLE), take them out (--remove USER), "
        "and list the members (--list, also the default). All changes or none."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", required=True, help="Slug of the project.")
        parser.add_argument(
            "--add",
            action="append",
            default=[],
            metavar="USER:ROLE",
            help="Add a user (or change their role): manager, annotator, reviewer or consumer; repeatable.",
        )
        parser.add_argument("--remove", action="append", default=[], metavar="USER", help="Remove a user; repeatable.")
        parser.add_argument("--list", dest="show", action="store_true", help="List the members (after any change).")

    def handle(self, *args: Any, project: str, add: list[str], remove: list[str], show: bool, **options: Any) -> None:
        target = Project.objects.filter(slug=project).first()
        if target is None:
            known = ", ".join(Project.objects.values_list("slug", flat=True)) or "none yet; see create_project"
            raise CommandError(f"unknown project {project!r}; nothing changed. Projects: {known}")
        try:
            added = check_members(members=add)
        except ValidationError as exc:
            raise CommandError("nothing changed:\n" + "\n".join(f"  - {m}" for m in exc.messages)) from exc
        model = get_user_model()
        removed = []
        problems = []
        for username in remove:
            user = model._default_manager.filter(**{model.USERNAME_FIELD: username}).first()
            if user is None:
                problems.append(f"no user named {username!r}")
            elif not Membership.objects.filter(project=target, user=user).exists():
                problems.append(f"{username!r} is not a member of {target.slug!r}")
            else:
                removed.append(user)
        both = {u.get_username() for u, _ in added} & {u.get_username() for u in removed}
        problems += [f"{username!r} is both added and removed" for username in sorted(both)]
        if problems:
            raise CommandError("nothing changed:\n" + "\n".join(f"  - {p}" for p in problems))
        with transaction.atomic():
            for member, role in added:
                membership_set(project=target, user=member, role=role)
                self.stdout.write(f"{member.get_username()} is {role} in {target.slug}.")
            for user in removed:
                membership_remove(project=target, user=user)
                self.stdout.write(f"{user.get_username()} removed from {target.slug}.")
        if show or not (added or removed):
            memberships = target.memberships.select_related("user").order_by("user__username")
            self.stdout.write(f"Members of {target.slug}: {memberships.count()}")
            for membership in memberships:
                self.stdout.write(f"  {membership.user.get_username()}: {membership.role}")
