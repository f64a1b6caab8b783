"""What the API answers with, as typed dataclasses.

Each keeps the whole JSON object as `raw`, so a field the server adds later is readable before
the client knows it.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO

from workbench_client.errors import JobFailed, JobTimeout

if TYPE_CHECKING:
    from workbench_client.client import Workbench

FINISHED = ("succeeded", "failed")


def parse_datetime(value: Any) -> datetime | None:
    """An ISO 8601 time as the API writes it (`…Z` included, which Python 3.10 does not read)."""
    if not value:
        return None
    text = str(value)
    return datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)


@dataclass(frozen=True)
class Project:
    slug: str
    name: str
    description: str
    role: str | None
    """Your role: manager, annotator, reviewer or consumer."""
    article_count: int
    schema_version: int
    overlap: int
    merge_strategy: str
    created_at: datetime | None
    updated_at: datetime | None
    label_schema: dict[str, Any] | None = None
    """Only from `Workbench.project(slug)`."""
    guidelines: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Project:
        return cls(
            slug=data["slug"],
            name=data.get("name", ""),
            description=data.get("description", ""),
            role=data.get("role"),
            article_count=int(data.get("article_count") or 0),
            schema_version=int(data.get("schema_version") or 0),
            overlap=int(data.get("overlap") or 0),
            merge_strategy=data.get("merge_strategy", ""),
            created_at=parse_datetime(data.get("created_at")),
            updated_at=parse_datetime(data.get("updated_at")),
            label_schema=data.get("label_schema"),
            guidelines=data.get("guidelines"),
            raw=data,
        )


@dataclass(frozen=True)
class DatasetVersion:
    """An immutable stored export with its manifest's counts and sha256."""

    id: int
    name: str
    format: str
    params: dict[str, Any]
    counts: dict[str, Any]
    sha256: str
    size: int
    created_by: str | None
    created_at: datetime | None
    download_url: str
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def filename(self) -> str | None:
        """The file name the download gets (`params["filename"]`), when the server recorded it."""
        name = self.params.get("filename")
        return str(name) if name else None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> DatasetVersion:
        return cls(
            id=int(data["id"]),
            name=data.get("name", ""),
            format=data.get("format", ""),
            params=dict(data.get("params") or {}),
            counts=dict(data.get("counts") or {}),
            sha256=data.get("sha256", ""),
            size=int(data.get("size") or 0),
            created_by=data.get("created_by"),
            created_at=parse_datetime(data.get("created_at")),
            download_url=data.get("download_url", ""),
            raw=data,
        )


@dataclass(frozen=True)
class ImportResult:
    imported: int
    articles: list[int]
    """Ids of the new articles."""
    duplicates: list[str]
    """Titles skipped as exact duplicates."""
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> ImportResult:
        return cls(
            imported=int(data.get("imported") or 0),
            articles=[int(pk) for pk in data.get("articles") or []],
            duplicates=[str(title) for title in data.get("duplicates") or []],
            raw=data,
        )


@dataclass(frozen=True)
class Job:
    """A background job (pre-annotation) of a project, as last read; `refresh()` reads it again."""

    id: int
    project: str
    """The project's slug (jobs live under their project in the API)."""
    kind: str
    status: str
    """pending, running, succeeded or failed."""
    done: int
    total: int
    progress: float
    counts: dict[str, int]
    model_version: str
    error: str
    created_by: str | None
    created_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    log: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    _client: Workbench | None = field(default=None, repr=False, compare=False)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"

    @classmethod
    def from_api(cls, data: dict[str, Any], *, project: str, client: Workbench | None = None) -> Job:
        return cls(
            id=int(data["id"]),
            project=project,
            kind=data.get("kind", ""),
            status=data.get("status", ""),
            done=int(data.get("done") or 0),
            total=int(data.get("total") or 0),
            progress=float(data.get("progress") or 0.0),
            counts=dict(data.get("counts") or {}),
            model_version=data.get("model_version") or "",
            error=data.get("error") or "",
            created_by=data.get("created_by"),
            created_at=parse_datetime(data.get("created_at")),
            started_at=parse_datetime(data.get("started_at")),
            finished_at=parse_datetime(data.get("finished_at")),
            log=data.get("log") or "",
            raw=data,
            _client=client,
        )

    def refresh(self) -> Job:
        """The job as the API has it now."""
        if self._client is None:
            raise RuntimeError("this Job was built without a client; get it from Workbench.job()")
        return self._client.job(self.project, self.id)

    def wait(
        self,
        *,
        progress: bool = False,
        timeout: float | None = None,
        poll: float = 1.0,
        stream: TextIO | None = None,
    ) -> Job:
        """Poll until the job has finished; return it, or raise `JobFailed` with the job's error.

        `progress=True` keeps one line on stderr (or `stream`) up to date; `timeout` seconds
        without the job finishing raise `JobTimeout` (the job goes on on the server).
        """
        out = stream if stream is not None else sys.stderr
        deadline = None if timeout is None else time.monotonic() + timeout
        job = self
        shown = 0
        while True:
            if progress:
                shown = _show_progress(out, job, shown)
            if job.finished:
                break
            if deadline is not None and time.monotonic() >= deadline:
                if progress:
                    out.write("\n")
                    out.flush()
                raise JobTimeout(job, timeout or 0.0)
            pause = poll if deadline is None else max(0.0, min(poll, deadline - time.monotonic()))
            time.sleep(pause)
            job = job.refresh()
        if progress:
            out.write("\n")
            out.flush()
        if job.status == "failed":
            raise JobFailed(job)
        return job


def _show_progress(out: TextIO, job: Job, shown: int) -> int:
    """Rewrite the progress line in place (carriage return, padded over the previous one)."""
    percent = f"{100 * job.progress:3.0f}%" if job.total else "  -%"
    line = f"{job.kind} job {job.id}: {job.status:<9} {job.done}/{job.total} {percent}"
    out.write("\r" + line.ljust(shown))
    out.flush()
    return len(line)
