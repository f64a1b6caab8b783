"""A typed Python client of the Workbench REST API (`/api/v1/`).

from workbench_client import Workbench

wb = Workbench("http://127.0.0.1:8000", token)
wb.export("seeds", "spacy", layer="machine:latest").to_file("corpus.zip")
"""

from __future__ import annotations

__version__ = "0.1.0"

from workbench_client.client import Workbench
from workbench_client.errors import (
    BadRequest,
    ChecksumMismatch,
    Conflict,
    ConnectionFailed,
    Forbidden,
    JobFailed,
    JobTimeout,
    NotFound,
    ServerError,
    Unauthorized,
    WorkbenchError,
)
from workbench_client.exports import Export
from workbench_client.models import DatasetVersion, ImportResult, Job, Project

__all__ = [
    "BadRequest",
    "ChecksumMismatch",
    "Conflict",
    "ConnectionFailed",
    "DatasetVersion",
    "Export",
    "Forbidden",
    "ImportResult",
    "Job",
    "JobFailed",
    "JobTimeout",
    "NotFound",
    "Project",
    "ServerError",
    "Unauthorized",
    "Workbench",
    "WorkbenchError",
    "__version__",
]
