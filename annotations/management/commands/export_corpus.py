"""python manage.py export_corpus --project SLUG --format F --out PATH [options]"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotations.exports.base import OVERLAP_RULES, EmptySplitsError, ExportOptionError
from annotations.exports.catalog import FORMATS
from annotations.exports.manifest import ExportManifest
from annotations.exports.runner import check_export_splits, export_request, export_write, manifest_path
from annotations.exports.selection import LAYER_SELECTOR_HELP
from annotations.models import Project


class Command(BaseCommand):
    help = (
        "Export a project's annotated articles for training. Single-file exports (jsonl; conll and dygie "
        "for one split) are written to --out; multi-file exports are written as a zip when --out ends in "
        ".zip, else unpacked into the folder --out. The bytes are those the API streams. Archives hold a "
        "manifest.json (counts, splits, what the format left out); a single file gets FILE.manifest.json."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", required=True, help="Slug of the project to export.")
        parser.add_argument("--format", required=True, help=f"One of: {', '.join(FORMATS)}.")
        parser.add_argument("--out", required=True, type=Path, help="Output file, .zip, or folder.")
        parser.add_argument("--layer", default="gold", help=f"Layer to export: {LAYER_SELECTOR_HELP}. Default gold.")
        parser.add_argument("--split", default="all", help="train, dev, test or all (default).")
        parser.add_argument("--ratios", default="0.8,0.1,0.1", help="train,dev,test ratios (default 0.8,0.1,0.1).")
        parser.add_argument(
            "--seed", default=0, help="Seed of the story-to-split assignment (default 0: the story key's own hash)."
        )
        parser.add_argument(
            "--overlap",
            default="longest",
            help=f"Which of overlapping mentions CoNLL, HF and spaCy's doc.ents keep: {', '.join(OVERLAP_RULES)} "
            "(default longest; label-priority = the entity type earlier in the schema).",
        )
        parser.add_argument(
            "--language",
            default=None,
            help="Only articles in this language: an ISO 639-1 code (en, fr), und, or all (default).",
        )
        parser.add_argument(
            "--strict", action="store_true", help="Fail, writing nothing, when a requested split would be empty."
        )
        parser.add_argument(
            "--since",
            default=None,
            help="Only articles whose selected layer changed after this ISO date or date-time (pass the 'As of' "
            "time the previous export printed); a JSONL export then ends with tombstone lines "
            '{"at": ..., "deleted": true, "key": ...} for articles that left the selection.',
        )
        parser.add_argument(
            "--clusters",
            default=None,
            help="events, events-csv: confirmed (default) clusters only, or all (proposed and single events too).",
        )
        parser.add_argument(
            "--sources",
            default=None,
            help="reliable: leave out articles whose source is flagged; default reliable for events and "
            "events-csv, all for the other formats.",
        )
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
                seed=options["seed"],
                overlap=options["overlap"],
                language=options["language"],
                clusters=options["clusters"],
                sources=options["sources"],
            )
            written = export_write(request, out, strict=options["strict"])
        except ExportOptionError as exc:
            raise CommandError(f"--{exc.field}: {exc.messages[0]}") from exc
        except EmptySplitsError as exc:
            raise CommandError(f"--strict: {exc}; nothing exported") from exc
        what = "folder" if written.path.is_dir() else "file"
        self.stdout.write(
            f"Exported {target.slug} ({request.selection.layer}, {request.format.name}, "
            f"splits {'+'.join(request.splits)}) to {what} {written.path}: "
            f"{len(written.files)} file(s), {written.bytes:,} bytes."
        )
        assert written.manifest is not None
        self.stdout.write(summary(written.manifest))
        if not request.is_archive:
            self.stdout.write(f"Manifest: {manifest_path(written.path)}")
        if written.manifest.deleted:
            self.stdout.write(f"  tombstones (articles that left the selection): {written.manifest.deleted:,}")
        assert written.until is not None
        self.stdout.write(f"As of: {written.until.isoformat()} (pass it as --since next time)")
        for warning in check_export_splits(written.manifest):
            self.stderr.write(f"Warning: {warning}")


def summary(manifest: ExportManifest) -> str:
    """The manifest in a few lines: what went in, per split, and what the format left out."""
    counts = manifest.counts_json()
    lines = [
        "  "
        + ", ".join(f"{counts[kind]:,} {kind}" for kind in ("articles", "mentions", "events", "arguments", "stances")),
        "  articles per split: " + ", ".join(f"{split} {n:,}" for split, n in counts["splits"].items()),
    ]
    lines += [f"  left out or changed: {entry['summary']}" for entry in manifest.notes.as_json()]
    return "\n".join(lines)
