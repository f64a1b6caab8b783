"""Unpack an uploaded zip (a brat collection) into a folder, safely.

A member with an absolute path, a `..` part, a drive or a link is refused; so is an archive over the
file count or the total size (counted on the bytes actually unpacked, not the sizes the archive
claims). Errors are ImportFailed naming the upload and the member.
"""

from __future__ import annotations

import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath
from typing import IO

from annotations.errors import ImportFailed

MAX_MEMBERS = 10_000
MAX_BYTES = 200 * 1024 * 1024
PIECE = 64 * 1024


def _safe_member(name: str) -> PurePosixPath | None:
    """The member's relative path, or None when it could land outside the folder."""
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        return None
    return path


def zip_unpack(
    source: IO[bytes] | Path,
    folder: Path,
    *,
    name: str,
    max_members: int | None = None,
    max_bytes: int | None = None,
) -> list[Path]:
    """Unpack the zip `source` into `folder`; returns the files written. `name` (the upload's)
    stands for the archive in errors. The limits default to MAX_MEMBERS and MAX_BYTES."""
    max_members = MAX_MEMBERS if max_members is None else max_members
    max_bytes = MAX_BYTES if max_bytes is None else max_bytes
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ImportFailed([f"{name}: not a zip archive ({exc})"]) from None
    written: list[Path] = []
    total = 0
    with archive:
        members = archive.infolist()
        if len(members) > max_members:
            raise ImportFailed([f"{name}: {len(members):,} members, over the limit of {max_members:,}"])
        for info in members:
            relative = _safe_member(info.filename)
            if relative is None:
                raise ImportFailed([f"{name}: member {info.filename!r} would be written outside the archive's folder"])
            if stat.S_ISLNK(info.external_attr >> 16):
                raise ImportFailed([f"{name}: member {info.filename!r} is a link; links are not unpacked"])
            if info.is_dir() or not relative.parts or relative.name.startswith("__MACOSX"):
                continue
            if relative.parts[0] == "__MACOSX":
                continue
            target = folder.joinpath(*relative.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with archive.open(info) as member, target.open("wb") as out:
                    while piece := member.read(PIECE):
                        total += len(piece)
                        if total > max_bytes:
                            raise ImportFailed([f"{name}: unpacks to over {max_bytes:,} bytes, the limit"])
                        out.write(piece)
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                raise ImportFailed([f"{name}: member {info.filename!r} can't be read ({exc})"]) from None
            written.append(target)
    shutil.rmtree(folder / "__MACOSX", ignore_errors=True)
    return written
