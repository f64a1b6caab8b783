"""Backups: the database and the stored dataset-version files in one folder, and back again.

A backup folder holds `database.dump` (PostgreSQL: `pg_dump --format=custom`) or
`database.sqlite3` (SQLite: the online backup API, consistent while others write), the media
files (`media/`, the dataset versions' stored exports) and `backup.json` (when, which database
vendor, the migrations applied, each file's sha256). Restoring checks the sha256s, then writes the
database into the target (PostgreSQL: `pg_restore --clean --if-exists --no-owner` into an existing
database, best a fresh one; SQLite: the backup API into the target file) and copies the media
files back under MEDIA_ROOT.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dj_database_url
from django.conf import settings
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

MANIFEST = "backup.json"
PG_DUMP = "database.dump"
SQLITE_FILE = "database.sqlite3"


class BackupError(Exception):
    """A backup or restore that could not be done, with what to do about it."""


@dataclass(frozen=True)
class Database:
    vendor: str  # "postgresql" or "sqlite"
    name: str
    host: str = ""
    port: str = ""
    user: str = ""
    password: str = ""

    @classmethod
    def from_settings(cls, config: dict[str, Any]) -> Database:
        engine = config["ENGINE"]
        if engine.endswith("sqlite3"):
            return cls(vendor="sqlite", name=str(config["NAME"]))
        if "postgresql" in engine:
            return cls(vendor="postgresql", name=config["NAME"], host=config.get("HOST") or "127.0.0.1",
                       port=str(config.get("PORT") or 5432), user=config.get("USER") or "",
                       password=config.get("PASSWORD") or "")  # fmt: skip
        raise BackupError(f"no backup for database engine {engine}")

    @classmethod
    def from_url(cls, url: str) -> Database:
        return cls.from_settings(dict(dj_database_url.parse(url)))

    def pg_args(self) -> list[str]:
        return ["--host", self.host, "--port", self.port, *(["--username", self.user] if self.user else [])]

    def pg_env(self) -> dict[str, str]:
        return {**os.environ, **({"PGPASSWORD": self.password} if self.password else {})}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _run(args: list[str], env: dict[str, str]) -> None:
    if shutil.which(args[0]) is None:
        raise BackupError(f"{args[0]} is not installed (Debian: apt-get install postgresql-client)")
    result = subprocess.run(args, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{args[0]} failed: {result.stderr.strip()}")


def backup_create(*, folder: Path) -> dict[str, Any]:
    """Write a backup of the configured database and MEDIA_ROOT into `folder` (new or empty)."""
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty: back up into a new folder")
    folder.mkdir(parents=True, exist_ok=True)
    database = Database.from_settings(connection.settings_dict)
    if database.vendor == "postgresql":
        target = folder / PG_DUMP
        _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(target), *database.pg_args(), database.name],
             database.pg_env())  # fmt: skip
    else:
        target = folder / SQLITE_FILE
        connection.ensure_connection()
        with sqlite3.connect(target) as copy:
            connection.connection.backup(copy)  # the online backup API: a consistent copy
        copy.close()
    media = Path(settings.MEDIA_ROOT)
    if media.is_dir():
        shutil.copytree(media, folder / "media")
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    manifest = {
        "created_at": timezone.now().isoformat(),
        "vendor": database.vendor,
        "migrations": sorted(f"{app}.{name}" for app, name in MigrationRecorder(connection).applied_migrations()),
        "files": {str(p.relative_to(folder)): _sha256(p) for p in files},
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def backup_restore(*, folder: Path, database_url: str | None = None, media_root: Path | None = None) -> dict[str, Any]:
    """Restore a backup folder into `database_url` (default: the configured database) and its media
    files under `media_root` (default MEDIA_ROOT). The target database should be fresh: PostgreSQL's
    must exist (`createdb`), SQLite's file is replaced."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except FileNotFoundError as exc:
        raise BackupError(f"{folder} holds no {MANIFEST}: not a backup folder") from exc
    for name, digest in manifest["files"].items():
        path = folder / name
        if not path.is_file() or _sha256(path) != digest:
            raise BackupError(f"{path} is missing or changed since the backup (sha256 differs): not restored")
    database = Database.from_url(database_url) if database_url else Database.from_settings(connection.settings_dict)
    if database.vendor != manifest["vendor"]:
        raise BackupError(f"a {manifest['vendor']} backup can't be restored into a {database.vendor} database")
    if database.vendor == "postgresql":
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--exit-on-error", "--dbname", database.name,
              *database.pg_args(), str(folder / PG_DUMP)], database.pg_env())  # fmt: skip
    else:
        with sqlite3.connect(folder / SQLITE_FILE) as source, sqlite3.connect(database.name) as target:
            source.backup(target)
        source.close()
        target.close()
    if (folder / "media").is_dir():
        shutil.copytree(folder / "media", media_root or Path(settings.MEDIA_ROOT), dirs_exist_ok=True)
    return manifest
