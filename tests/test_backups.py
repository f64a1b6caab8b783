"""Backups: `manage.py backup` then `restore` into a fresh database gives the same JSONL export,
byte for byte, and the same stored dataset-version files (SQLite; PostgreSQL via require_service)."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from annotations.models import DatasetVersion
from annotations.services.datasets import dataset_version_create
from tests import workers
from tests.conftest import require_service
from tests.factories import ArticleFactory
from tests.test_api_helpers import annotate_gold
from tests.workers import run_manage

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def annotated(project, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    for _ in range(3):
        annotate_gold(ArticleFactory(project=project))
    version = dataset_version_create(project=project, name="v1", format="jsonl")
    return project, version


def exported(project, database_url: str, out: Path, media_root: Path) -> bytes:
    result = run_manage("export_corpus", "--project", project.slug, "--format", "jsonl", "--out", str(out),
                        DATABASE_URL=database_url, MEDIA_ROOT=str(media_root))  # fmt: skip
    assert result.returncode == 0, result.stderr
    return out.read_bytes()


def backed_up_and_restored(annotated, tmp_path, target_url: str) -> None:
    project, version = annotated
    original = exported(project, workers.test_database_url(), tmp_path / "before.jsonl", tmp_path / "media")

    call_command("backup", str(tmp_path / "backup"))
    call_command("restore", str(tmp_path / "backup"), "--database-url", target_url,
                 "--media-root", str(tmp_path / "restored-media"))  # fmt: skip

    restored = exported(project, target_url, tmp_path / "after.jsonl", tmp_path / "restored-media")
    assert restored == original
    assert original.count(b"\n") == 3
    stored = version.file.name
    assert (tmp_path / "restored-media" / stored).read_bytes() == (tmp_path / "media" / stored).read_bytes()
    code = "from annotations.models import DatasetVersion as D; print(D.objects.get().sha256)"
    check = run_manage("shell", "-c", code, DATABASE_URL=target_url)
    assert check.stdout.split()[-1] == DatasetVersion.objects.get().sha256


def test_a_sqlite_backup_restored_into_a_fresh_file_exports_the_same_bytes(annotated, tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("the suite runs on PostgreSQL here; the PostgreSQL test covers it")
    backed_up_and_restored(annotated, tmp_path, f"sqlite:///{tmp_path / 'restored.sqlite3'}")


def test_a_postgresql_backup_restored_into_a_fresh_database_exports_the_same_bytes(annotated, tmp_path):
    require_service(connection.vendor == "postgresql", "PostgreSQL as the test database (DATABASE_URL)")
    require_service(shutil.which("pg_dump") is not None and shutil.which("createdb") is not None,
                    "pg_dump, pg_restore and createdb (postgresql-client)")  # fmt: skip
    s = connection.settings_dict
    fresh = f"wb_restore_{uuid.uuid4().hex[:8]}"
    where = ["-h", s["HOST"] or "127.0.0.1", "-p", str(s["PORT"] or 5432), *(["-U", s["USER"]] if s["USER"] else [])]
    subprocess.run(["createdb", *where, fresh], check=True)
    try:
        base = workers.test_database_url().rsplit("/", 1)[0]
        backed_up_and_restored(annotated, tmp_path, f"{base}/{fresh}")
    finally:
        subprocess.run(["dropdb", "--if-exists", *where, fresh], check=False)


def test_restore_refuses_a_changed_backup_and_backup_a_used_folder(annotated, tmp_path):
    call_command("backup", str(tmp_path / "backup"))
    with pytest.raises(CommandError, match="is not empty: back up into a new folder"):
        call_command("backup", str(tmp_path / "backup"))
    dump = next(p for p in (tmp_path / "backup").iterdir() if p.name.startswith("database."))
    dump.write_bytes(dump.read_bytes()[:-1])
    with pytest.raises(CommandError, match="changed since the backup"):
        call_command("restore", str(tmp_path / "backup"), "--database-url", f"sqlite:///{tmp_path / 'x.sqlite3'}")
