"""`manage.py restore FOLDER [--database-url URL] [--media-root DIR]`: a `backup` folder back into
a database (best a fresh one: `createdb` for PostgreSQL) and its files under MEDIA_ROOT."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from annotations.services.backups import BackupError, backup_restore


class Command(BaseCommand):
    help = "Restore a backup folder into a (fresh) database and MEDIA_ROOT."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("folder", type=Path)
        parser.add_argument("--database-url", help="Target database (default: DATABASE_URL).")
        parser.add_argument("--media-root", type=Path, help="Where the dataset-version files go (default MEDIA_ROOT).")

    def handle(self, *args: Any, folder: Path, database_url: str | None, media_root: Path | None,
               **options: Any) -> None:  # fmt: skip
        try:
            manifest = backup_restore(folder=folder, database_url=database_url, media_root=media_root)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"restored the {manifest['vendor']} backup of {manifest['created_at']} from {folder}")
