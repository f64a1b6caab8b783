"""A streamed export: iterate it (JSONL records, or byte chunks) or write it to a file.

The body is read as it arrives, never whole into memory. The response headers are kept as the
server sent them (`headers`), so headers the server adds later need no client change;
`until`, `warnings` and `counts` read the export headers the API documents.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import unquote

import httpx

CHUNK_SIZE = 64 * 1024


def filename_from(headers: httpx.Headers) -> str | None:
    """The file name of `Content-Disposition` (RFC 6266 `filename*=` first), without any folder."""
    disposition = headers.get("content-disposition", "")
    extended = re.search(r"filename\*\s*=\s*([^']*)'[^']*'([^;]+)", disposition, re.IGNORECASE)
    if extended:
        name = unquote(extended.group(2).strip(), encoding=extended.group(1) or "utf-8")
    else:
        plain = re.search(r'filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]+))', disposition, re.IGNORECASE)
        if not plain:
            return None
        name = plain.group(1) if plain.group(1) is not None else plain.group(2).strip()
        name = re.sub(r"\\(.)", r"\1", name)
    name = Path(name.replace("\\", "/")).name  # never a path out of the target folder
    return name or None


def target_path(path: str | os.PathLike[str], filename: str | None) -> Path:
    """`path` itself, or the server's file name inside it when `path` is a folder."""
    target = Path(path)
    if target.is_dir():
        if not filename:
            raise ValueError(f"{target} is a folder and the server sent no file name; pass a file path")
        target = target / filename
    return target


def write_stream(chunks: Iterator[bytes], target: Path, *, expected_sha256: str | None = None) -> str | None:
    """Write to `target` through a `.part` file renamed at the end; return the bytes' sha256.

    With `expected_sha256`, a different digest leaves nothing behind and returns None.
    """
    digest = hashlib.sha256()
    partial = target.with_name(target.name + ".part")
    try:
        with partial.open("wb") as handle:
            for chunk in chunks:
                digest.update(chunk)
                handle.write(chunk)
        if expected_sha256 is not None and digest.hexdigest() != expected_sha256.lower():
            partial.unlink()
            return None
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return digest.hexdigest()


class Export:
    """One export response, open until it is read through, written to a file, or closed.

    `for record in export` yields the JSONL lines as dicts for `format="jsonl"` and byte chunks
    otherwise. Use it as a context manager (or read it to the end) so the connection is released.
    """

    def __init__(self, response: httpx.Response, *, format: str) -> None:
        self.response = response
        self.format = format
        self._consumed = False

    # --- What the server said about the export --------------------------------------------

    @property
    def headers(self) -> httpx.Headers:
        """Every response header, case-insensitive (`export.headers["X-Export-Until"]`)."""
        return self.response.headers

    @property
    def filename(self) -> str | None:
        """The file name the server suggests (Content-Disposition)."""
        return filename_from(self.response.headers)

    @property
    def media_type(self) -> str:
        return self.response.headers.get("content-type", "").split(";")[0].strip()

    @property
    def until(self) -> str | None:
        """`X-Export-Until`: the export's as-of time; pass it as the next export's `since`."""
        return self.response.headers.get("x-export-until")

    @property
    def warnings(self) -> list[str]:
        """`X-Export-Warning` headers (e.g. a requested split left empty); [] when there are none."""
        return [value.strip() for value in self.response.headers.get_list("x-export-warning") if value.strip()]

    @property
    def counts(self) -> Any:
        """`X-Export-Counts` parsed as JSON (its text when it is not JSON); None when absent."""
        value = self.response.headers.get("x-export-counts")
        if value is None:
            return None
        try:
            return json.loads(value)
        except ValueError:
            return value

    # --- The body --------------------------------------------------------------------------

    def chunks(self, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        """The body as it arrives, in chunks of up to `chunk_size` bytes."""
        self._start()
        try:
            yield from self.response.iter_bytes(chunk_size)
        finally:
            self.close()

    def records(self) -> Iterator[dict[str, Any]]:
        """The JSONL body, one dict per line (blank lines skipped)."""
        pending = b""
        for chunk in self.chunks():
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                if line.strip():
                    yield json.loads(line)
        if pending.strip():
            yield json.loads(pending)

    def __iter__(self) -> Iterator[Any]:
        return self.records() if self.format == "jsonl" else self.chunks()

    def to_file(self, path: str | os.PathLike[str]) -> Path:
        """Stream the body to `path` (a folder: the server's file name in it); return the file's path."""
        target = target_path(path, self.filename)
        write_stream(self.chunks(), target)
        return target

    def close(self) -> None:
        self.response.close()

    def _start(self) -> None:
        if self._consumed:
            raise RuntimeError("an export is streamed once; call Workbench.export() again to read it again")
        self._consumed = True

    def __enter__(self) -> Export:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Export {self.format} {self.filename or ''} until={self.until}>"
