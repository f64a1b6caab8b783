"""python manage.py create_project --slug SLUG --name NAME [--schema FILE] [--member USER:ROLE ...]"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotations.schema import SchemaError, load_schema_file
from annotations.services.projects import check_members, project_create


class Command(BaseCommand):
    help = (
        "Create a project with the default label schema, or with the one in --schema FILE, and its members "
        "(--member USER:ROLE, repeatable; the users must exist). Nothing is created when anything is wrong."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--slug", required=True, help="Short identifier used in URLs and commands.")
        parser.add_argument("--name", required=True, help="Human-readable project name.")
        parser.add_argument("--schema", type=Path, help="Label schema JSON file (default: seeds/schema.json).")
        parser.add_argument(
            "--member",
            action="append",
            default=[],
            metavar="USER:ROLE",
            help="A member and their role (manager, annotator, reviewer, consumer); repeatable.",
        )

    def handle(self, *args: Any, slug: str, name: str, schema: Path | None, member: list[str], **options: Any) -> None:
        try:
            members = check_members(members=member)
            document = load_schema_file(schema) if schema is not None else None
            project = project_create(slug=slug, name=name, label_schema=document, members=members)
        except SchemaError as exc:
            where = f"schema file {schema}" if schema is not None else "the default schema"
            raise CommandError(
                f"{where} is invalid; nothing created:\n" + "\n".join(f"  - {e}" for e in exc.errors)
            ) from exc
        except ValidationError as exc:
            problems = [f"{field}: {m}" for field, messages in exc.message_dict.items() for m in messages]
            raise CommandError("project not created:\n" + "\n".join(f"  - {p}" for p in problems)) from exc
        label_schema = project.label_schema
        self.stdout.write(
            f"Created project {project.slug!r} ({project.name}): "
            f"{len(label_schema['entity_types'])} entity types, {len(label_schema['event_types'])} event types, "
            f"{len(label_schema['stance_labels'])} stance labels."
        )
        for user, role in members:
            self.stdout.write(f"  {user.get_username()}: {role}")
