"""Stored files: every file the workbench keeps (dataset versions, trained models, kept export
archives) goes through Django's storage API, the local data directory or an S3-compatible bucket.

    stored_save(name, source) -> StoredFile         stream a path, a binary file or chunks in
    stored_save_dir(name, directory) -> StoredFile  a folder as one reproducible .tar.gz
    stored_open(name) -> IO[bytes]                  stream the bytes out (unchecked)
    stored_open_verified(name, sha256) -> IO[bytes] stream them out after checking the sha256
    stored_verify(name, sha256)                     raise StoredFileMissing / StoredFileCorrupt
    stored_exists(name), stored_size(name), stored_delete(name)
    local_copy(name, sha256, cache_dir=None) -> Path  a checked local copy (unpacked archive) for loaders

`files.py` talks to the storage; `cache.py` keeps the local copies.
"""

from annotations.storage.cache import local_copy
from annotations.storage.files import (
    CHUNK,
    StorageError,
    StorageUnavailable,
    StoredFile,
    StoredFileCorrupt,
    StoredFileMissing,
    default_storage,
    storage_label,
    stored_delete,
    stored_exists,
    stored_hash,
    stored_open,
    stored_open_verified,
    stored_save,
    stored_save_dir,
    stored_size,
    stored_verify,
)

__all__ = [
    "CHUNK",
    "StorageError",
    "StorageUnavailable",
    "StoredFile",
    "StoredFileCorrupt",
    "StoredFileMissing",
    "default_storage",
    "local_copy",
    "storage_label",
    "stored_delete",
    "stored_exists",
    "stored_hash",
    "stored_open",
    "stored_open_verified",
    "stored_save",
    "stored_save_dir",
    "stored_size",
    "stored_verify",
]
