"""Local copies of stored files (trained models) for the process that loads them.

A worker loads a model from a local path; the model lives in the storage, which may be a bucket
on another machine. `local_copy` fetches it once into a cache folder of this machine or
container (settings.MODEL_CACHE_DIR, `WORKBENCH_MODEL_CACHE`), checks its sha256 and unpacks an
archive. The cache is keyed by the sha256, so a new model is a new entry and an old one is
never served for it. Layout:

    <cache>/<sha256>/<file name>    the verified file, as stored
    <cache>/<sha256>/unpacked/      its contents, when the name is an archive (.tar.gz, .tgz, .tar, .zip)

An entry is built in a temporary folder beside it and renamed into place in one step, so two
processes fetching at once both end with a complete entry (the slower one drops its own copy),
and a process killed half-way leaves only a `.partial-*` folder that nobody reads.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
import zipfile
from pathlib import Path

from django.conf import settings

from annotations.storage.files import (
    StoredFileCorrupt,
    copy_hashing,
    is_archive,
    stored_open,
)

UNPACKED = "unpacked"


def cache_root(cache_dir: Path | None) -> Path:
    return Path(cache_dir) if cache_dir is not None else Path(settings.MODEL_CACHE_DIR)


def unpack(archive: Path, target: Path) -> None:
    """Unpack into `target`; members that would land outside it (absolute, `..`, links out) are refused."""
    target.mkdir()
    if archive.name.lower().endswith(".zip"):
        with zipfile.ZipFile(archive) as packed:
            for member in packed.namelist():
                if not (target / member).resolve().is_relative_to(target.resolve()):
                    raise ValueError(f"{archive.name}: member {member!r} would land outside the folder")
            packed.extractall(target)
    else:
        with tarfile.open(archive) as packed:
            packed.extractall(target, filter="data")


def entry_result(entry: Path) -> Path | None:
    """The path a complete entry answers with, or None when it is not usable."""
    files = [path for path in entry.iterdir() if path.is_file()] if entry.is_dir() else []
    if len(files) != 1:
        return None
    unpacked = entry / UNPACKED
    if is_archive(files[0].name):
        return unpacked if unpacked.is_dir() else None
    return files[0]


def entry_valid(entry: Path, sha256: str) -> Path | None:
    """The entry's path when its kept file still has the sha256 (one local read, no download)."""
    result = entry_result(entry)
    if result is None:
        return None
    kept = next(path for path in entry.iterdir() if path.is_file())
    with kept.open("rb") as handle:
        actual, _ = copy_hashing(handle, None, str(kept))
    return result if actual == sha256 else None


def discard(path: Path) -> None:
    """Move a folder out of the way in one step, then delete it (readers of the old name see none)."""
    trash = path.with_name(f".trash-{path.name}-{os.getpid()}-{os.urandom(4).hex()}")
    try:
        path.rename(trash)
    except FileNotFoundError:
        return
    shutil.rmtree(trash, ignore_errors=True)


def local_copy(name: str, sha256: str, *, cache_dir: Path | None = None) -> Path:
    """A local path holding the stored file `name` whose sha256 is `sha256`: fetched when needed.

    Returns the file itself, or the folder it unpacks to when the name is an archive. Reuses a
    cached entry after checking its kept file's sha256 (a local read; delete the folder to fetch
    again). Raises StoredFileMissing, StoredFileCorrupt (nothing kept) or StorageUnavailable.
    """
    root = cache_root(cache_dir)
    entry = root / sha256
    if entry.exists():
        found = entry_valid(entry, sha256)
        if found is not None:
            return found
        discard(entry)  # damaged or half-deleted: fetch again
    root.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".partial-{sha256[:12]}-", dir=root))
    try:
        kept = partial / (Path(name).name or "stored")
        with stored_open(name) as source, kept.open("wb") as target:
            actual, _ = copy_hashing(source, target, name)
        if actual != sha256:
            raise StoredFileCorrupt(name, expected=sha256, actual=actual)
        if is_archive(name):
            unpack(kept, partial / UNPACKED)
        try:
            partial.rename(entry)
        except OSError:
            # Another process put a complete entry there first (renaming onto a folder that is
            # not empty fails): use theirs.
            found = entry_result(entry)
            if found is None:
                raise
            return found
    finally:
        if partial.exists():
            shutil.rmtree(partial, ignore_errors=True)
    found = entry_result(entry)
    assert found is not None  # just built
    return found
