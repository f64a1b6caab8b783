"""Helpers shared by the readers: decoding, JSON lines, and article checks with file:line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Field, Model

from annotations.errors import ImportFailed
from annotations.json_limits import JSONTooDeep, json_loads_bounded
from annotations.services.articles import ArticleInput, check_article

# Past this many problems a file is clearly not the format it claims; stop listing them.
MAX_ERRORS_PER_FILE = 50

JSON_TYPE_NAMES = {
    dict: "an object",
    list: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "true/false",
    type(None): "null",
}


def json_type_name(value: Any) -> str:
    return JSON_TYPE_NAMES.get(type(value), type(value).__name__)


def read_text(path: Path) -> str:
    """The file decoded as UTF-8 (a leading byte-order mark dropped); errors name file and line."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFailed([f"{path}: cannot read ({exc.strerror or exc})"]) from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ImportFailed(
            [f"{path}:{line}: not valid UTF-8 (byte 0x{data[exc.start]:02x} at column {column}); save it as UTF-8"]
        ) from exc


def validation_messages(exc: ValidationError) -> list[str]:
    """'field message' for every message of a field-keyed ValidationError."""
    if hasattr(exc, "error_dict"):
        return [f"{field} {message}" for field, messages in exc.message_dict.items() for message in messages]
    return list(exc.messages)


def checked(article: ArticleInput, where: str) -> list[str]:
    """Problems that would stop `article` being stored, each prefixed with `where`."""
    try:
        check_article(article=article)
    except ValidationError as exc:
        return [f"{where}: {message}" for message in validation_messages(exc)]
    return []


def json_lines(path: Path, errors: list[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, object) for each non-blank line; bad lines add an error to `errors`.

    Lines are split on "\\n" only: JSON strings may hold U+2028 and friends unescaped.
    """
    text = read_text(path)
    if not text.strip():
        raise ImportFailed([f"{path}: file is empty"])
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        if len(errors) >= MAX_ERRORS_PER_FILE:
            errors.append(f"{path}:{number}: stopped reading after {MAX_ERRORS_PER_FILE} errors")
            return
        try:
            value = json_loads_bounded(line)
        except json.JSONDecodeError as exc:
            errors.append(f"{path}:{number}: malformed JSON ({exc.msg} at column {exc.colno})")
            continue
        except JSONTooDeep as exc:
            errors.append(f"{path}:{number}: JSON {exc}")
            continue
        if not isinstance(value, dict):
            errors.append(f"{path}:{number}: expected a JSON object, got {json_type_name(value)}")
            continue
        yield number, value


def required_string(
    record: dict[str, Any], field: str, where: str, errors: list[str], *, max_length: int | None = None
) -> str:
    """A required string field; a missing or mistyped one adds an error and gives ""."""
    if field not in record:
        errors.append(f"{where}: missing required field {field!r}")
        return ""
    value = record[field]
    if not isinstance(value, str):
        errors.append(f"{where}: field {field!r} must be a string, not {json_type_name(value)}")
        return ""
    if max_length is not None and len(value) > max_length:
        errors.append(f"{where}: field {field!r} is longer than {max_length} characters")
        return ""
    return value


def string_field(record: dict[str, Any], field: str, where: str, errors: list[str], *, max_length: int) -> str:
    """An optional string field: absent or null → ""; anything else must be a short enough string."""
    value = record.get(field)
    if value is None:
        return ""
    if not isinstance(value, str):
        errors.append(f"{where}: field {field!r} must be a string, not {json_type_name(value)}")
        return ""
    if len(value) > max_length:
        errors.append(f"{where}: field {field!r} is longer than {max_length} characters")
        return ""
    return value


def max_length(model: type[Model], field: str) -> int:
    """The column width of a model's CharField, so readers reject what the database would."""
    model_field = model._meta.get_field(field)
    width = model_field.max_length if isinstance(model_field, Field) else None
    assert width is not None, f"{model.__name__}.{field} has no max_length"
    return width


def unknown_fields(record: dict[str, Any], known: frozenset[str], where: str) -> list[str]:
    extra = sorted(set(record) - known)
    if not extra:
        return []
    return [f"{where}: unknown field(s) {', '.join(map(repr, extra))}; known: {', '.join(sorted(known))}"]
