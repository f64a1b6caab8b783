"""python manage.py import_articles --project SLUG PATH..."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotations.models import Project
from annotations.services.imports import import_paths


class Command(BaseCommand):
    help = (
        "Import articles from .txt files (one article each), .jsonl files (one article per line) and "
        "folders of them (recursively). Each file is imported whole or not at all; exact duplicates are skipped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", required=True, help="Slug of the project to import into.")
        parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help=".txt / .jsonl file or folder")

    def handle(self, *args: Any, project: str, paths: list[Path], **options: Any) -> None:
        target = Project.objects.filter(slug=project).first()
        if target is None:
            known = ", ".join(Project.objects.values_list("slug", flat=True)) or "none yet; see create_project"
            raise CommandError(f"unknown project {project!r}; nothing imported. Projects: {known}")
        report = import_paths(project=target, paths=paths)
        for outcome in report.files:
            for error in outcome.errors:
                self.stderr.write(error)
            for title in outcome.duplicates:
                self.stdout.write(f"{outcome.path}: skipped duplicate {title!r}")
            if not outcome.errors:
                self.stdout.write(f"{outcome.path}: imported {outcome.imported}")
        self.stdout.write(report.summary())
        if report.errors:
            raise CommandError(f"{len(report.errors)} error(s); the files named above were not imported")
