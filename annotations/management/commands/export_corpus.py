"""python manage.py export_corpus --project SLUG --format F --out PATH [options]"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotations.exports.base import ExportOptionError
from annotations.exports.catalog import FORMATS
from annotations.exports.runner import export_request, export_write
from annotations.exports.selection import LAYER_SELECTOR_HELP
from annotations.models import Project


class Command(BaseCommand):
    help = (
        "Export a project's annotated articles for training. Single-file exports (jsonl; conll and dygie "
        "for one split) are written to --out; multi-file exports are written as a zip when --out ends in "
        ".zip, else unpacked into the folder --out. The bytes are those the API streams."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", required=True, help="Slug of the project to export.")
        parser.add_argument("--format", required=True, help=f"One of: {', '.join(FORMATS)}.")
        parser.add_argument("--out", required=True, type=Path, help="Output file, .zip, or folder.")
        parser.add_argument("--layer", default="gold", help=f"Layer to export: {LAYER_SELECTOR_HELP}. Default gold.")
        parser.add_argument("--split", default="all", help="train, dev, test or all (default).")
        parser.add_argument("--ratios", default="0.8,0.1,0.1", help="train,dev,test ratios (default 0.8,0.1,0.1).")
        parser.add_argument("--since", default=None, help="Only articles created after this ISO date or date-time.")
        parser.add_argument(
            "--status",
            default=None,
            help="Only layers with these statuses, comma-separated (e.g. done,adjudicated), or all. Default: "
            "adjudicated for the gold layer, any status for annotator and machine layers.",
        )

    def handle(self, *args: Any, project: str, out: Path, **options: Any) -> None:
        target = Project.objects.filter(slug=project).first()
        if target is None:
            known = ", ".join(Project.objects.values_list("slug", flat=True)) or "none yet; see create_project"
            raise CommandError(f"unknown project {project!r}; nothing exported. Projects: {known}")
        try:
            request = export_request(
                project=target,
                format=options["format"],
                layer=options["layer"],
                split=options["split"],
                ratios=options["ratios"],
                since=options["since"],
                status=options["status"],
            )
            written = export_write(request, out)
        except ExportOptionError as exc:
            raise CommandError(f"--{exc.field}: {exc.messages[0]}") from exc
        what = "folder" if written.path.is_dir() else "file"
        self.stdout.write(
            f"Exported {target.slug} ({request.selection.layer}, {request.format.name}, "
            f"splits {'+'.join(request.splits)}) to {what} {written.path}: "
            f"{len(written.files)} file(s), {written.bytes:,} bytes."
        )
