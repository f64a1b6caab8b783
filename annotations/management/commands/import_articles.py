"""python manage.py import_articles --project SLUG [--annotations LAYER [--format F] [--label-map M]] PATH..."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotations.exports.base import ExportOptionError
from annotations.models import Project
from annotations.services.annotated_import import FORMATS, annotated_import_paths
from annotations.services.imports import import_paths


class Command(BaseCommand):
    help = (
        "Import articles from .txt files (one article each), .jsonl files (one article per line) and "
        "folders of them (recursively). Each file is imported whole or not at all; exact duplicates are skipped. "
        "With --annotations, read annotated files (native JSONL, brat, doccano, Label Studio) into that layer."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", required=True, help="Slug of the project to import into.")
        parser.add_argument(
            "--annotations",
            metavar="LAYER",
            help="Import annotated files into this layer: gold, machine:<version> or annotator:<username>.",
        )
        parser.add_argument(
            "--format",
            choices=FORMATS,
            help="Annotated format (default: from the suffix; a folder of .ann files is brat).",
        )
        parser.add_argument(
            "--label-map", type=Path, metavar="MAP.json", help='JSON object renaming labels: {"theirs": "OURS"}.'
        )
        parser.add_argument(
            "--language",
            default="",
            metavar="CODE",
            help="Language of every article (ISO 639-1, e.g. fr), over the files' own; default: each file's "
            "language field, else detected from the text.",
        )
        parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="file or folder")

    def handle(self, *args: Any, project: str, paths: list[Path], **options: Any) -> None:
        target = Project.objects.filter(slug=project).first()
        if target is None:
            known = ", ".join(Project.objects.values_list("slug", flat=True)) or "none yet; see create_project"
            raise CommandError(f"unknown project {project!r}; nothing imported. Projects: {known}")
        if options.get("annotations"):
            self._annotated(target, paths, options)
            return
        if options.get("format") or options.get("label_map"):
            raise CommandError("--format and --label-map go with --annotations")
        report = import_paths(project=target, paths=paths, language=(options.get("language") or "").strip().lower())
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

    def _annotated(self, project: Project, paths: list[Path], options: dict[str, Any]) -> None:
        label_map: dict[str, str] = {}
        if options.get("label_map"):
            path = options["label_map"]
            try:
                label_map = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise CommandError(f"{path}: cannot read the label map ({exc})") from None
            if not isinstance(label_map, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in label_map.items()
            ):
                raise CommandError(f'{path}: the label map must be a JSON object of strings, {{"theirs": "OURS"}}')
        try:
            report = annotated_import_paths(
                project=project,
                paths=paths,
                annotations=options["annotations"],
                format=options.get("format"),
                label_map=label_map,
            )
        except ExportOptionError as exc:
            raise CommandError(f"--{exc}") from None
        totals = [0, 0, 0, 0, 0]
        for path, outcome, errors in report.files:
            for error in errors:
                self.stderr.write(error)
            if outcome is None:
                continue
            for warning in outcome.warnings:
                self.stderr.write(f"warning: {warning}")
            for title in outcome.duplicates:
                self.stdout.write(f"{path}: skipped duplicate {title!r}")
            counts = (outcome.articles, outcome.mentions, outcome.events, outcome.arguments, outcome.stances)
            totals = [a + b for a, b in zip(totals, counts, strict=True)]
            self.stdout.write(
                f"{path}: imported {counts[0]} articles, {counts[1]} mentions, {counts[2]} events, "
                f"{counts[3]} arguments, {counts[4]} stances"
            )
        self.stdout.write(
            f"imported {totals[0]} articles, {totals[1]} mentions, {totals[2]} events, {totals[3]} arguments, "
            f"{totals[4]} stances; errors {len(report.errors)}"
        )
        if report.errors:
            raise CommandError(f"{len(report.errors)} error(s); the files named above were not imported")
