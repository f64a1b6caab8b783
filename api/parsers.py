"""Request body parsers with bounds: JSON bodies by size and nesting depth, JSON Lines uploads by size.

DRF's JSONParser lets a deeply nested body raise RecursionError (a 500); here a malformed or too
deeply nested body is a 400 with the error under `errors.body` (api.exception_handler gives every
parse error that shape, and answers 413 for a body over DATA_UPLOAD_MAX_MEMORY_SIZE). A JSON Lines
upload is bounded by IMPORT_MAX_BYTES.
"""

from __future__ import annotations

import codecs
import shutil
import tempfile
from typing import Any

from django.conf import settings
from django.core.files import File
from rest_framework import exceptions, status
from rest_framework.parsers import BaseParser, DataAndFiles, JSONParser
from rest_framework.parsers import get_encoding as body_encoding  # type: ignore[attr-defined]

from annotations.json_limits import JSONTooDeep, json_loads_bounded


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "request_too_large"


def content_length(request: Any) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


class BoundedJSONParser(JSONParser):
    """JSON bodies nesting at most JSON_MAX_DEPTH levels; a parse error is a ParseError (400), never a 500."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        parser_context = parser_context or {}
        # DRF hands JSON parsers `request.body`, which Django has checked against
        # DATA_UPLOAD_MAX_MEMORY_SIZE (RequestDataTooBig: a 413 from api.exception_handler).
        data = stream.read() if stream is not None else b""
        encoding = body_encoding(parser_context)
        try:
            text = codecs.decode(data, encoding)
        except UnicodeDecodeError as exc:
            raise exceptions.ParseError(f"JSON parse error - the body is not valid {encoding}: {exc.reason}") from None
        try:
            return json_loads_bounded(text, parse_constant=self._reject_constant if self.strict else None)
        except JSONTooDeep as exc:
            raise exceptions.ParseError(f"JSON parse error - the body is {exc}") from None
        except ValueError as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None

    @staticmethod
    def _reject_constant(name: str) -> Any:
        raise ValueError(f"{name} is not valid JSON")


def spool_upload(stream: Any, *, limit: int, what: str, how_to_send_more: str) -> File:
    """The stream in a temporary file (in memory up to FILE_UPLOAD_MAX_MEMORY_SIZE); RequestTooLarge
    past `limit` bytes."""
    # Not a context manager: the file is the request's data and lives as long as the request.
    spool = tempfile.SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE)  # noqa: SIM115
    if stream is not None:
        shutil.copyfileobj(stream, spool, 64 * 1024)
    if spool.tell() > limit:
        spool.close()
        raise RequestTooLarge(f"{what} is over the limit of {limit:,} bytes. {how_to_send_more}")
    spool.seek(0)
    return File(spool, name="request body")


class JSONLinesParser(BaseParser):
    """A raw JSON Lines body, spooled to disk past FILE_UPLOAD_MAX_MEMORY_SIZE; read as `file`.

    The import view refuses a body over IMPORT_MAX_BYTES by its Content-Length before parsing."""

    media_type = "application/x-ndjson"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> DataAndFiles:
        upload = spool_upload(
            stream,
            limit=settings.IMPORT_MAX_BYTES,
            what="The JSON Lines body",
            how_to_send_more="Split the file and send each part in a request of its own.",
        )
        return DataAndFiles({}, {"file": upload})


class JSONLParser(JSONLinesParser):
    media_type = "application/jsonl"
