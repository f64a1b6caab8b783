"""Stored files through Django's storage API (`STORAGES["default"]`): save, open, check, delete.

The storage is the local data directory (MEDIA_ROOT) or an S3-compatible bucket
(`WORKBENCH_STORAGE=s3://bucket/prefix`, workbench/settings.py); nothing here knows a bare path.
Every read and write streams in chunks of `CHUNK` bytes: no file is ever held in memory whole.

A stored file is known by its name and its sha256 (kept by the caller, e.g. a DatasetVersion row).
A name never overwrites: a taken one gets a suffix (on both backends), so store the returned name.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage, storages
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

CHUNK = 1024 * 1024
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".zip")

Source = Path | IO[bytes] | Iterable[bytes]


@dataclass(frozen=True)
class StoredFile:
    """What a caller keeps of a stored file: its name in the storage, its sha256 and its size."""

    name: str
    sha256: str
    size: int


class StorageError(Exception):
    """A stored file could not be read as recorded; `name` is its name in the storage."""

    def __init__(self, name: str, message: str):
        self.name = name
        super().__init__(message)


class StoredFileMissing(StorageError):
    """The storage has no file by that name (deleted, or a data directory that was not kept)."""

    def __init__(self, name: str):
        super().__init__(name, f"stored file {name!r} is missing from the storage")


class StoredFileCorrupt(StorageError):
    """The stored bytes no longer have the recorded sha256 (changed or truncated since)."""

    def __init__(self, name: str, *, expected: str, actual: str):
        self.expected = expected
        self.actual = actual
        super().__init__(name, f"stored file {name!r} has sha256 {actual}, not the recorded {expected}")


class StorageUnavailable(StorageError):
    """The storage did not answer (bucket unreachable, no permission): the file may be fine."""

    def __init__(self, name: str, cause: BaseException):
        super().__init__(name, f"the storage could not be read for {name!r}: {cause}")


def default_storage() -> Storage:
    """The storage every stored file goes to (looked up on each call, so tests may swap it)."""
    return storages["default"]


def storage_label() -> str:
    """Where stored files go, for messages: the data directory or s3://bucket/prefix."""
    storage = default_storage()
    if isinstance(storage, S3Storage):
        return f"s3://{storage.bucket_name}/{storage.location}".rstrip("/")
    if isinstance(storage, FileSystemStorage):
        return str(storage.location)
    return type(storage).__name__


# --- Reading --------------------------------------------------------------------------------


def is_missing(exc: BaseException) -> bool:
    if isinstance(exc, FileNotFoundError):
        return True
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return status == 404 or error.get("Code") in {"NoSuchKey", "404", "NotFound"}
    return False


def storage_errors(name: str, exc: BaseException) -> StorageError:
    """Missing when the storage says so; anything else it raised is the storage being unavailable."""
    return StoredFileMissing(name) if is_missing(exc) else StorageUnavailable(name, exc)


READ_ERRORS = (OSError, BotoCoreError, ClientError)


class StreamBody(io.RawIOBase):
    """A botocore StreamingBody as a raw stream (S3's own S3File reads the whole object first)."""

    def __init__(self, body: Any):
        self.body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.body.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self.body.close()
        super().close()


def open_stream(storage: Storage, name: str) -> IO[bytes]:
    if isinstance(storage, S3Storage):
        key = storage._normalize_name(clean_name(name))
        body = storage.bucket.Object(key).get()["Body"]
        return io.BufferedReader(StreamBody(body), CHUNK)
    if isinstance(storage, FileSystemStorage):
        return open(storage.path(name), "rb")
    return cast(IO[bytes], storage.open(name, "rb"))


def stored_open(name: str) -> IO[bytes]:
    """The stored bytes as a stream (close it; `with stored_open(name) as handle:`), not checked.

    Raises StoredFileMissing, or StorageUnavailable when the storage does not answer.
    """
    try:
        return open_stream(default_storage(), name)
    except READ_ERRORS as exc:
        raise storage_errors(name, exc) from exc


def copy_hashing(source: IO[bytes], target: IO[bytes] | None, name: str) -> tuple[str, int]:
    """Read `source` to its end in chunks (into `target` when given): its sha256 and size."""
    digest = hashlib.sha256()
    size = 0
    while True:
        try:
            chunk = source.read(CHUNK)
        except READ_ERRORS as exc:  # a write error (a full disk) is not the storage's
            raise storage_errors(name, exc) from exc
        if not chunk:
            return digest.hexdigest(), size
        digest.update(chunk)
        size += len(chunk)
        if target is not None:
            target.write(chunk)


def stored_hash(name: str) -> tuple[str, int]:
    """The sha256 and size of the stored bytes, read once in chunks."""
    with stored_open(name) as handle:
        return copy_hashing(handle, None, name)


def stored_verify(name: str, sha256: str) -> None:
    """Raise StoredFileMissing or StoredFileCorrupt unless the stored bytes have this sha256.

    Reads the whole file once (streamed): its cost is one full read of the file.
    """
    actual, _ = stored_hash(name)
    if actual != sha256:
        raise StoredFileCorrupt(name, expected=sha256, actual=actual)


def stored_open_verified(name: str, sha256: str) -> IO[bytes]:
    """A stream of the stored bytes, checked against `sha256` before the first byte is returned.

    A checksum can only be known at the end of a file, and a wrong one must refuse the whole file
    (an HTTP status goes out before the body), so the bytes are read twice, never held in memory:
    the local data directory is hashed through an open handle, which then rewinds (the same file,
    even if the name is replaced meanwhile); a remote store's object is downloaded once into an
    unnamed temporary file (hashing on the way) that the stream then reads.
    """
    handle = stored_open(name)
    try:
        if handle.seekable():
            actual, _ = copy_hashing(handle, None, name)
            handle.seek(0)
            verified = handle
        else:
            spooled = tempfile.TemporaryFile()  # noqa: SIM115 (returned open, closed by the caller)
            try:
                actual, _ = copy_hashing(handle, spooled, name)
            finally:
                handle.close()
            spooled.seek(0)
            verified = cast(IO[bytes], spooled)
    except BaseException:
        handle.close()
        raise
    if actual != sha256:
        verified.close()
        raise StoredFileCorrupt(name, expected=sha256, actual=actual)
    return verified


def stored_exists(name: str) -> bool:
    try:
        return default_storage().exists(name)
    except READ_ERRORS as exc:
        raise StorageUnavailable(name, exc) from exc


def stored_size(name: str) -> int:
    """The stored size in bytes without reading the file (a stat, or a HEAD request)."""
    try:
        return default_storage().size(name)
    except READ_ERRORS as exc:
        raise storage_errors(name, exc) from exc


def stored_delete(name: str) -> None:
    """Delete a stored file; a missing one is not an error."""
    default_storage().delete(name)


# --- Writing --------------------------------------------------------------------------------


class HashingReader(io.RawIOBase):
    """Chunks read in order as a forward-only stream that hashes and counts what is read."""

    def __init__(self, chunks: Iterator[bytes]):
        self.chunks = chunks
        self.pending = b""
        self.digest = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self.pending:
            chunk = next(self.chunks, None)
            if chunk is None:
                return 0
            self.pending = bytes(chunk)
        data, self.pending = self.pending[: len(buffer)], self.pending[len(buffer) :]
        buffer[: len(data)] = data
        self.digest.update(data)
        self.size += len(data)
        return len(data)


def chunks_of(handle: IO[bytes]) -> Iterator[bytes]:
    read: Callable[[], bytes] = lambda: handle.read(CHUNK)  # noqa: E731
    return iter(read, b"")


def stored_save(name: str, source: Source) -> StoredFile:
    """Store `source` (a file path, an open binary file, or byte chunks) under `name`, streaming.

    The sha256 is computed while the bytes are read from `source`, which is read once, in this
    thread. A taken name gets a suffix: keep the returned StoredFile's name. A write that fails
    leaves nothing behind.

    The local data directory is written as the bytes come. An upload to a bucket reads its source
    from a pool of threads (boto3 sends large files in parallel parts), and the chunks of an export
    come from a generator that reads the database on this thread's connection, so for a bucket the
    bytes go to an unnamed local temporary file first (disk, not memory: FILE_UPLOAD_TEMP_DIR or
    the system's temporary folder), which is then uploaded.
    """
    if isinstance(source, Path):
        with source.open("rb") as handle:
            return stored_save(name, handle)
    chunks = chunks_of(cast(IO[bytes], source)) if hasattr(source, "read") else iter(source)
    storage = default_storage()
    reader = HashingReader(chunks)
    if isinstance(storage, FileSystemStorage):
        return save_read(storage, name, io.BufferedReader(reader, CHUNK), reader)
    with tempfile.TemporaryFile(dir=settings.FILE_UPLOAD_TEMP_DIR) as spooled:
        shutil.copyfileobj(io.BufferedReader(reader, CHUNK), spooled, CHUNK)
        spooled.seek(0)
        return save_read(storage, name, spooled, reader)


def save_read(storage: Storage, name: str, content: IO[bytes], reader: HashingReader) -> StoredFile:
    """Save `content` (whose bytes `reader` hashed, or will have hashed by the end of the save)."""
    target = storage.get_available_name(clean_name(name))
    try:
        stored = storage.save(target, File(content, name=target))
        size = storage.size(stored)
        if size != reader.size:
            raise StorageError(stored, f"stored file {stored!r} is {size} bytes, not {reader.size}")
    except BaseException:
        # A local write that failed half-way leaves its partial file (an upload is all or nothing).
        storage.delete(target)
        raise
    return StoredFile(name=stored, sha256=reader.digest.hexdigest(), size=reader.size)


def tar_gz(directory: Path, target: IO[bytes]) -> None:
    """A reproducible .tar.gz of the folder's contents: sorted, no owners, times or gzip date."""

    def clean(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        info.mtime = 0
        return info

    with (
        gzip.GzipFile(filename="", mode="wb", fileobj=target, mtime=0, compresslevel=6) as packed,
        tarfile.open(fileobj=packed, mode="w", format=tarfile.PAX_FORMAT) as archive,
    ):
        for path in sorted(directory.rglob("*")):
            archive.add(path, arcname=path.relative_to(directory).as_posix(), recursive=False, filter=clean)


def stored_save_dir(name: str, directory: Path) -> StoredFile:
    """Store a folder as one .tar.gz (added to `name` unless it ends so); `local_copy` unpacks it."""
    if not directory.is_dir():
        raise NotADirectoryError(f"{directory} is not a folder")
    if not name.endswith(ARCHIVE_SUFFIXES[:2]):
        name = f"{name}.tar.gz"
    with tempfile.TemporaryFile() as spooled:
        tar_gz(directory, spooled)
        spooled.seek(0)
        return stored_save(name, spooled)


def is_archive(name: str) -> bool:
    return name.lower().endswith(ARCHIVE_SUFFIXES)
