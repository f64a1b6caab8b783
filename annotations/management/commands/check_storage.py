"""`manage.py check_storage`: is every stored file the database records there, with its sha256?

Reads every file once, streamed (the cost of the check is one full read of the storage; with
`--quick` only its presence and size, one stat or HEAD request per file). Exits non-zero when a
file is missing, changed or unreadable; `--orphans` also lists stored files no row refers to.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from annotations.models import DatasetVersion, TrainedModel
from annotations.storage import (
    StorageError,
    StoredFileCorrupt,
    StoredFileMissing,
    default_storage,
    storage_label,
    stored_hash,
    stored_size,
)


@dataclass(frozen=True)
class Recorded:
    """A stored file as the database records it: what it is, its name, its sha256 and size."""

    what: str
    name: str
    sha256: str
    size: int


def dataset_versions(project: str | None) -> Iterator[Recorded]:
    rows = DatasetVersion.objects.select_related("project").order_by("project__slug", "created_at", "pk")
    if project:
        rows = rows.filter(project__slug=project)
    for row in rows.iterator():
        yield Recorded(f"dataset version {row.project.slug}/{row.name}", row.file.name, row.sha256, row.size)


def trained_models(project: str | None) -> Iterator[Recorded]:
    rows = TrainedModel.objects.select_related("project").order_by("project__slug", "created_at", "pk")
    if project:
        rows = rows.filter(project__slug=project)
    for row in rows.iterator():
        yield Recorded(f"trained model {row.project.slug}/{row.version}", row.file, row.sha256, row.size)


# Where stored files are recorded, and the storage folder each kind lives under.
SOURCES = {"datasets": dataset_versions, "models": trained_models}


def stored_names(folder: str) -> Iterator[str]:
    """Every stored file under `folder`, recursively (a listing, no reads)."""
    try:
        directories, files = default_storage().listdir(folder)
    except FileNotFoundError:  # a local folder never made (a bucket lists nothing instead)
        return
    yield from (f"{folder}/{name}" for name in files)
    for directory in directories:
        yield from stored_names(f"{folder}/{directory}")


def problem(record: Recorded, quick: bool) -> str | None:
    """What is wrong with one recorded file, or None."""
    try:
        if quick:
            size = stored_size(record.name)
            if size != record.size:
                return f"corrupt  {record.what}: {record.name} is {size} bytes, recorded {record.size}"
            return None
        sha256, _ = stored_hash(record.name)
        if sha256 != record.sha256:
            raise StoredFileCorrupt(record.name, expected=record.sha256, actual=sha256)
    except StoredFileMissing:
        return f"missing  {record.what}: {record.name}"
    except StoredFileCorrupt as exc:
        return f"corrupt  {record.what}: {record.name} has sha256 {exc.actual}, recorded {exc.expected}"
    except StorageError as exc:
        return f"unreadable  {record.what}: {exc}"
    return None


class Command(BaseCommand):
    help = "Check that every stored file the database records is in the storage with its sha256."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--project", help="Only this project's files (slug).")
        parser.add_argument("--quick", action="store_true", help="Check presence and size only (no read of the files).")
        parser.add_argument(
            "--orphans", action="store_true", help="Also list stored files that no row refers to (not an error)."
        )

    def handle(self, *args: Any, project: str | None, quick: bool, orphans: bool, **options: Any) -> None:
        checked = 0
        problems: list[str] = []
        recorded: set[str] = set()
        for records in SOURCES.values():
            for record in records(project):
                checked += 1
                recorded.add(record.name)
                found = problem(record, quick)
                if found:
                    problems.append(found)
                    self.stdout.write(found)
        if orphans:
            for folder in SOURCES:
                scope = f"{folder}/{project}" if project else folder
                for name in stored_names(scope):
                    if name not in recorded:
                        self.stdout.write(f"orphan  {name} (no row refers to it)")
        how = "presence and size" if quick else "sha256"
        summary = f"checked {checked} stored file(s) in {storage_label()} ({how}): {len(problems)} problem(s)"
        if problems:
            raise CommandError(summary)
        self.stdout.write(summary)
