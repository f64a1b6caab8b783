"""Errors: one `WorkbenchError` base, a subclass per HTTP status the API answers with.

The API's error body is `{"detail": "...", "errors": {field: [messages]}}` (400 and 409 carry
`errors`; 401, 403 and 404 only `detail`); both are kept on the exception, with the whole body.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from workbench_client.models import Job


class WorkbenchError(Exception):
    """An error answered by the API (or no answer at all: `status_code` is None)."""

    def __init__(
        self,
        detail: str,
        *,
        status_code: int | None = None,
        errors: dict[str, list[str]] | None = None,
        body: Any = None,
        response: httpx.Response | None = None,
    ) -> None:
        self.detail = detail
        self.status_code = status_code
        self.errors: dict[str, list[str]] = errors or {}
        self.body = body
        self.response = response
        super().__init__(str(self))

    def __str__(self) -> str:
        head = f"{self.status_code} {self.detail}" if self.status_code else self.detail
        fields = "; ".join(f"{field}: {message}" for field, messages in self.errors.items() for message in messages)
        # The API's detail already is the summary of the field messages when it has no own text.
        return head if not fields or fields in self.detail else f"{head} ({fields})"


class BadRequest(WorkbenchError):
    """400: bad input; `errors` names every field with its messages."""


class Unauthorized(WorkbenchError):
    """401: no token, or a wrong one."""


class Forbidden(WorkbenchError):
    """403: your role in the project does not allow this."""


class NotFound(WorkbenchError):
    """404: no such project (or you are not a member), or no such object in it."""


class Conflict(WorkbenchError):
    """409: a stale layer version, or a strict export with a requested split left empty."""


class ServerError(WorkbenchError):
    """5xx, still after the retries."""


class ConnectionFailed(WorkbenchError):
    """No answer (connection refused, timeout), still after the retries; the httpx error is the cause."""


class ChecksumMismatch(WorkbenchError):
    """A downloaded dataset version's sha256 differs from the one the API recorded."""


class JobFailed(WorkbenchError):
    """The job ended as failed; `detail` is the job's error, `job` the finished job."""

    def __init__(self, job: Job) -> None:
        self.job = job
        super().__init__(f"{job.kind} job {job.id} failed: {job.error or 'no error recorded'}")


class JobTimeout(WorkbenchError, TimeoutError):
    """`Job.wait` gave up before the job finished; `job` is its last state."""

    def __init__(self, job: Job, timeout: float) -> None:
        self.job = job
        super().__init__(f"{job.kind} job {job.id} still {job.status} ({job.done}/{job.total}) after {timeout:g} s")


BY_STATUS: dict[int, type[WorkbenchError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
}


def error_from_response(response: httpx.Response) -> WorkbenchError:
    """The exception for an error response whose body has been read."""
    body: Any
    try:
        body = response.json()
    except ValueError:
        body = response.text
    detail = ""
    errors: dict[str, list[str]] = {}
    if isinstance(body, dict):
        detail = str(body.get("detail") or "")
        raw_errors = body.get("errors")
        if isinstance(raw_errors, dict):
            errors = {
                str(field): [str(m) for m in messages] if isinstance(messages, list) else [str(messages)]
                for field, messages in raw_errors.items()
            }
    elif isinstance(body, str):
        detail = body.strip()[:500]
    if not detail:
        detail = response.reason_phrase or "error"
    if response.status_code >= 500:
        cls: type[WorkbenchError] = ServerError
    else:
        cls = BY_STATUS.get(response.status_code, WorkbenchError)
    return cls(detail, status_code=response.status_code, errors=errors, body=body, response=response)
