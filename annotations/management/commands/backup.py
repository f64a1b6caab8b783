"""`manage.py backup [FOLDER]`: the database and the stored dataset-version files in one folder
(`annotations/services/backups.py`); default `var/backups/<UTC time>/`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from annotations.services.backups import BackupError, backup_create


class Command(BaseCommand):
    help = "Back up the database (pg_dump custom format, or SQLite's backup API) and the dataset-version files."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("folder", nargs="?", type=Path, help="A new or empty folder (default var/backups/TIME).")

    def handle(self, *args: Any, folder: Path | None, **options: Any) -> None:
        folder = folder or Path(settings.VAR_DIR) / "backups" / timezone.now().strftime("%Y%m%dT%H%M%SZ")
        try:
            manifest = backup_create(folder=folder)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"backup of the {manifest['vendor']} database and {len(manifest['files']) - 1} media "
                          f"file(s) in {folder}")  # fmt: skip
