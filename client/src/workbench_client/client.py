"""`Workbench`: the REST API (`/api/v1/`) over one httpx client, with retries.

Retries: a connection that could not be made, and a 5xx answer, are tried again after
`backoff × 2^attempt` seconds (a numeric `Retry-After` is honoured), `retries` times. A request
that was sent but got no answer (a read timeout, a dropped connection) is tried again only when
it is safe to repeat (GET and the other idempotent methods); the server rolls back a request
that failed with a 5xx, so a POST is repeated after one, except after 504 (a gateway gave up
waiting, the server may still be working on it). 4xx answers are never retried.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import httpx

from workbench_client import __version__
from workbench_client.errors import ChecksumMismatch, ConnectionFailed, error_from_response
from workbench_client.exports import Export, filename_from, target_path, write_stream
from workbench_client.models import DatasetVersion, ImportResult, Job, Project

API_PREFIX = "/api/v1"
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
PAGE_SIZE = 200  # the API's largest page

ProjectRef = str | Project
Option = str | int | float | bool | datetime | Sequence[str] | Sequence[float]
OptionValue = Option | None


def slug_of(project: ProjectRef) -> str:
    return project.slug if isinstance(project, Project) else project


def option_value(value: Option) -> str | int | float | bool:
    """An export option as the API reads it: lists comma-separated, times in ISO 8601."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (str, int, float, bool)):
        return value
    return ",".join(str(item) for item in value)


def query_value(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def api_base(url: str) -> str:
    """`http://host:8000`, `…/` or `…/api/v1/` all mean the API root `…/api/v1/`."""
    base = url.rstrip("/")
    if not base.endswith(API_PREFIX):
        base += API_PREFIX
    return base + "/"


class Workbench:
    """A client of one Workbench server, authenticated with an API token.

    >>> wb = Workbench("http://127.0.0.1:8000", token)
    >>> for record in wb.export("seeds", "jsonl", split="train"): ...
    """

    def __init__(
        self,
        url: str,
        token: str,
        *,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = api_base(url)
        self.retries = max(0, retries)
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._sleep: Callable[[float], None] = time.sleep
        self._http = httpx.Client(
            base_url=self.url,
            headers={
                "Authorization": f"Token {token}",
                "Accept": "application/json",
                "User-Agent": f"workbench-client/{__version__} httpx/{httpx.__version__}",
            },
            timeout=timeout,
            transport=transport,
        )

    # --- Projects ------------------------------------------------------------------------

    def projects(self) -> list[Project]:
        """The projects you are a member of, with your role."""
        return [Project.from_api(item) for item in self._pages("projects/")]

    def project(self, project: ProjectRef) -> Project:
        """A project with its label schema and guidelines."""
        return Project.from_api(self._json("GET", f"projects/{slug_of(project)}/"))

    def health(self) -> dict[str, Any]:
        return dict(self._json("GET", "health/"))

    # --- Export ----------------------------------------------------------------------------

    def export(
        self,
        project: ProjectRef,
        format: str = "jsonl",
        *,
        layer: str = "gold",
        split: str | Sequence[str] = "all",
        since: str | datetime | None = None,
        status: str | Sequence[str] | None = None,
        ratios: str | Sequence[float] | None = None,
        seed: int | None = None,
        overlap: str | None = None,
        strict: bool | None = None,
        **options: OptionValue,
    ) -> Export:
        """Start a streamed export; iterate the result or call `.to_file(path)`.

        Options left as None are not sent (the server's defaults apply); `options` are sent as
        further query parameters as they are.
        """
        params = self._options(
            format=format,
            layer=layer,
            split=split,
            since=since,
            status=status,
            ratios=ratios,
            seed=seed,
            overlap=overlap,
            strict=strict,
            **options,
        )
        query = {key: query_value(value) for key, value in params.items()}
        response = self._request("GET", f"projects/{slug_of(project)}/export/", params=query, stream=True)
        return Export(response, format=format)

    # --- Dataset versions ------------------------------------------------------------------

    def dataset_versions(self, project: ProjectRef) -> list[DatasetVersion]:
        """The project's dataset versions, newest first."""
        return [DatasetVersion.from_api(item) for item in self._pages(f"projects/{slug_of(project)}/dataset-versions/")]

    def dataset_version(self, project: ProjectRef, id: int) -> DatasetVersion:
        return DatasetVersion.from_api(self._json("GET", f"projects/{slug_of(project)}/dataset-versions/{id}/"))

    def create_dataset_version(
        self, project: ProjectRef, *, name: str, format: str = "jsonl", **options: OptionValue
    ) -> DatasetVersion:
        """Store an export immutably under `name`; options as for `export` (layer, split, since, …)."""
        body = self._options(name=name, format=format, **options)
        return DatasetVersion.from_api(self._json("POST", f"projects/{slug_of(project)}/dataset-versions/", json=body))

    def download_dataset_version(
        self, project: ProjectRef, version: int | DatasetVersion, path: str | os.PathLike[str]
    ) -> Path:
        """Stream a dataset version's file to `path` (a folder: its file name in it) and check its sha256.

        On a mismatch nothing is left at `path` and `ChecksumMismatch` is raised.
        """
        if not isinstance(version, DatasetVersion):
            version = self.dataset_version(project, version)
        response = self._request(
            "GET", f"projects/{slug_of(project)}/dataset-versions/{version.id}/download/", stream=True
        )
        try:
            target = target_path(path, filename_from(response.headers) or version.filename)
            expected = version.sha256
            received = write_stream(response.iter_bytes(), target, expected_sha256=expected)
        finally:
            response.close()
        if received is None:
            raise ChecksumMismatch(
                f"dataset version {version.id} ({version.name!r}): the download's sha256 differs from "
                f"the recorded {expected}; nothing was kept",
                response=response,
            )
        return target

    # --- Import ----------------------------------------------------------------------------

    def import_articles(
        self,
        project: ProjectRef,
        path_or_file: str | os.PathLike[str] | IO[bytes],
        **fields: str | int | bool,
    ) -> ImportResult:
        """Upload a JSON Lines file of articles (streamed, multipart field `file`).

        `fields` go along as form fields as they are (e.g. `annotations="gold"`, `format="brat"`,
        where the server reads them). All or nothing: a bad line raises `BadRequest` with every
        problem under `errors["file"]`.
        """
        url = f"projects/{slug_of(project)}/articles/import/"
        data = {key: query_value(value) for key, value in fields.items()}
        if isinstance(path_or_file, (str, os.PathLike)):
            source = Path(path_or_file)
            with source.open("rb") as handle:
                return self._upload(url, handle, source.name, data)
        name = Path(str(getattr(path_or_file, "name", "") or "upload.jsonl")).name
        return self._upload(url, path_or_file, name, data)

    def _upload(self, url: str, handle: IO[bytes], name: str, data: dict[str, str]) -> ImportResult:
        start = handle.tell() if handle.seekable() else None

        def rewind() -> bool:
            if start is None:
                return False
            handle.seek(start)
            return True

        files = {"file": (name, handle, "application/x-ndjson")}
        body = self._json("POST", url, files=files, data=data, rewind=rewind)
        return ImportResult.from_api(body)

    # --- Jobs --------------------------------------------------------------------------------

    def preannotate(self, project: ProjectRef, articles: Sequence[int] | None = None) -> Job:
        """Start a pre-annotation job (managers) of every article, or of these article ids."""
        slug = slug_of(project)
        body: dict[str, Any] = {"kind": "preannotate"}
        if articles is not None:
            body["articles"] = list(articles)
        return Job.from_api(self._json("POST", f"projects/{slug}/jobs/", json=body), project=slug, client=self)

    def job(self, project: ProjectRef, id: int) -> Job:
        """A job of the project with its progress, counts, error and log; `.wait()` follows it."""
        slug = slug_of(project)
        return Job.from_api(self._json("GET", f"projects/{slug}/jobs/{id}/"), project=slug, client=self)

    def jobs(self, project: ProjectRef) -> list[Job]:
        """The project's jobs, newest first (without their logs)."""
        slug = slug_of(project)
        return [Job.from_api(item, project=slug, client=self) for item in self._pages(f"projects/{slug}/jobs/")]

    # --- HTTP ------------------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Workbench:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Workbench {self.url}>"

    @staticmethod
    def _options(**options: OptionValue) -> dict[str, str | int | float | bool]:
        return {key: option_value(value) for key, value in options.items() if value is not None}

    def _json(self, method: str, url: str, **kwargs: Any) -> Any:
        response = self._request(method, url, **kwargs)
        return response.json()

    def _pages(self, url: str) -> Iterator[dict[str, Any]]:
        """Every item of a paginated list (`{"results": […], "next": …}`), page by page."""
        page = 1
        while True:
            body = self._json("GET", url, params={"page": page, "page_size": PAGE_SIZE})
            if isinstance(body, list):  # an unpaginated list
                yield from body
                return
            yield from body.get("results", [])
            if not body.get("next"):
                return
            page += 1

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        delay = self.backoff * 2**attempt
        if retry_after and retry_after.strip().isdigit():
            delay = max(delay, float(retry_after))
        return min(delay, self.max_backoff)

    def _request(
        self,
        method: str,
        url: str,
        *,
        stream: bool = False,
        rewind: Callable[[], bool] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send with retries; an error answer raises its `WorkbenchError`.

        With `stream=True` the body is left unread (the caller closes the response); a request
        body that cannot be rewound (`rewind` returns False) is not sent again.
        """
        method = method.upper()
        attempt = 0
        while True:
            if attempt and rewind is not None and not rewind():
                raise ConnectionFailed(f"{method} {url}: the upload can't be rewound to be sent again")
            request = self._http.build_request(method, url, **kwargs)
            last = attempt >= self.retries
            try:
                response = self._http.send(request, stream=True)
            except httpx.TransportError as exc:
                unsent = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
                if last or not (unsent or method in IDEMPOTENT):
                    raise ConnectionFailed(f"{method} {request.url}: {exc.__class__.__name__}: {exc}") from exc
                self._sleep(self._delay(attempt, None))
                attempt += 1
                continue
            if response.status_code >= 500 and not last and (method in IDEMPOTENT or response.status_code != 504):
                response.close()
                self._sleep(self._delay(attempt, response.headers.get("retry-after")))
                attempt += 1
                continue
            if response.is_error:
                try:
                    response.read()
                finally:
                    response.close()
                raise error_from_response(response)
            if not stream:
                try:
                    response.read()
                finally:
                    response.close()
            return response
