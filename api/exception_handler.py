"""The one place where domain errors become HTTP responses.

Every 400 has the same shape, `{"detail": "...", "errors": {field: [messages]}}`, whatever raised
it: a serializer (DRF ValidationError), a service (django ValidationError / InvalidAnnotation),
an export option (ExportOptionError), a label schema (SchemaError), an import (ImportFailed) or a
body that doesn't parse (ParseError, under `errors.body`).
Nested serializer errors are flattened to dotted paths (`arguments[1].mention`) so that every
message names its field. A stale layer version is a 409 with the version to reload; a strict
export with a requested split left empty (EmptySplitsError) is a 409 naming the splits.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from annotations.errors import ImportFailed, VersionConflict
from annotations.exports.base import EmptySplitsError
from annotations.schema import SchemaError
from annotations.services.dates import PublishedConflict
from annotations.services.linking import ClusterConflict

NON_FIELD = "non_field_errors"


def flatten_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """{field path: [messages]} from a DRF error structure (dicts and lists, nested)."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            # A list field's errors are keyed by the item's position: items[0], not items.0.
            path = f"{prefix}[{key}]" if isinstance(key, int) else f"{prefix}.{key}" if prefix else str(key)
            for field, messages in flatten_errors(value, path).items():
                out.setdefault(field, []).extend(messages)
    elif isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            if detail:
                out[prefix or NON_FIELD] = [str(item) for item in detail]
        else:
            for index, item in enumerate(detail):
                for field, messages in flatten_errors(item, f"{prefix}[{index}]").items():
                    out.setdefault(field, []).extend(messages)
    else:
        out[prefix or NON_FIELD] = [str(detail)]
    return out


def django_errors(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {field: [str(m) for m in messages] for field, messages in exc.message_dict.items()}
    return {NON_FIELD: [str(m) for m in exc.messages]}


def summary(errors: dict[str, list[str]]) -> str:
    return "; ".join(f"{field}: {message}" for field, messages in errors.items() for message in messages)


def bad_request(errors: dict[str, list[str]], detail: str | None = None) -> Response:
    return Response({"detail": detail or summary(errors), "errors": errors}, status=status.HTTP_400_BAD_REQUEST)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """REST_FRAMEWORK["EXCEPTION_HANDLER"]: domain errors first, then DRF's own handling."""
    response: Response | None
    if isinstance(exc, VersionConflict):
        response = Response(
            {
                "detail": str(exc),
                "errors": {"version": [f"is {exc.expected}, but the layer is at version {exc.current}"]},
                "layer": exc.layer_id,
                "expected_version": exc.expected,
                "current_version": exc.current,
            },
            status=status.HTTP_409_CONFLICT,
        )
    elif isinstance(exc, (PublishedConflict, ClusterConflict)):
        field = "version"
        response = Response(
            {
                "detail": str(exc),
                "errors": {field: [f"is {exc.expected}, but it is at version {exc.current}"]},
                "expected_version": exc.expected,
                "current_version": exc.current,
            },
            status=status.HTTP_409_CONFLICT,
        )
    elif isinstance(exc, EmptySplitsError):
        response = Response(
            {"detail": str(exc), "errors": {"split": [str(exc)]}, "empty_splits": exc.splits},
            status=status.HTTP_409_CONFLICT,
        )
    elif isinstance(exc, ImportFailed):
        errors = {"file": list(exc.errors)}
        response = bad_request(errors, f"nothing was imported: {len(exc.errors)} error(s) in the file")
    elif isinstance(exc, SchemaError):
        response = bad_request({"label_schema": list(exc.errors)})
    elif isinstance(exc, RequestDataTooBig):  # a JSON body or form fields past DATA_UPLOAD_MAX_MEMORY_SIZE
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        size = int(context["request"].META.get("CONTENT_LENGTH") or 0) if "request" in context else 0
        response = Response(
            {
                "detail": f"The request body is {size:,} bytes, over the limit of {limit:,} "
                "(DATA_UPLOAD_MAX_MEMORY_SIZE): send less in one request."
            },
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    elif isinstance(exc, DjangoValidationError):  # InvalidAnnotation, ExportOptionError, service checks
        response = bad_request(django_errors(exc))
    elif isinstance(exc, exceptions.ValidationError):
        response = bad_request(flatten_errors(exc.detail))
    elif isinstance(exc, exceptions.ParseError):  # a malformed (or too deeply nested) body: api.parsers
        response = bad_request({"body": [str(exc.detail)]})
    else:
        return drf_exception_handler(exc, context)
    # DRF's handler does this for its own exceptions: undo what ATOMIC_REQUESTS would commit.
    set_rollback()
    return response
