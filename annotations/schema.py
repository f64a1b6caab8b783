"""Project label schemas: structure (JSON Schema) plus the cross-references JSON Schema can't see.

A label schema lists entity types, event types with their roles, realis values, contexts and
stance labels. `validate_label_schema` raises `SchemaError` with every problem found, each
naming the JSON path it concerns; `LabelSchema` wraps a validated document for fast look-ups.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import jsonschema
from django.conf import settings

CODE_PATTERN = r"^[A-Z][A-Z0-9_]{0,31}$"
ROLE_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"

_ENTITY_TYPE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["code", "name"],
    "properties": {
        "code": {"type": "string", "pattern": CODE_PATTERN},
        "name": {"type": "string", "minLength": 1},
        "color": {"type": "string", "pattern": r"^#[0-9a-fA-F]{6}$"},
        "hotkey": {"type": "string", "pattern": r"^[a-z0-9]$"},
        "description": {"type": "string"},
    },
}
_ROLE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "entity_types"],
    "properties": {
        "name": {"type": "string", "pattern": ROLE_PATTERN},
        "min": {"type": "integer", "minimum": 0},
        "max": {"type": ["integer", "null"], "minimum": 1},
        "entity_types": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "description": {"type": "string"},
    },
}
_EVENT_TYPE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["code", "roles"],
    "properties": {
        "code": {"type": "string", "pattern": CODE_PATTERN},
        "description": {"type": "string"},
        "modes": {"type": "array", "items": {"type": "string", "minLength": 1}},
        "roles": {"type": "array", "items": _ROLE},
        "extension": {"type": "boolean"},
    },
}
_STANCE_LABEL = {
    "type": "object",
    "additionalProperties": False,
    "required": ["code"],
    "properties": {
        "code": {"type": "string", "pattern": CODE_PATTERN},
        "description": {"type": "string"},
    },
}
SCHEMA_DOCUMENT = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["entity_types", "event_types", "realis", "stance_labels"],
    "properties": {
        "name": {"type": "string"},
        "version": {"type": "integer", "minimum": 1},
        "description": {"type": "string"},
        "entity_types": {"type": "array", "items": _ENTITY_TYPE, "minItems": 1},
        "event_types": {"type": "array", "items": _EVENT_TYPE},
        "realis": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
        "contexts": {"type": "array", "items": {"type": "string", "minLength": 1}},
        "stance_labels": {"type": "array", "items": _STANCE_LABEL},
        "model_label_map": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}


class SchemaError(ValueError):
    """A label schema document is invalid. `errors` lists one message per problem."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("Invalid label schema: " + "; ".join(errors))


def _path(parts: Any) -> str:
    out = "schema"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _duplicates(values: list[str]) -> list[str]:
    seen: set[str] = set()
    dups: list[str] = []
    for value in values:
        if value in seen and value not in dups:
            dups.append(value)
        seen.add(value)
    return dups


def validate_label_schema(document: Any) -> None:
    """Raise SchemaError listing every structural and cross-reference problem of `document`."""
    validator = jsonschema.Draft202012Validator(SCHEMA_DOCUMENT)
    errors = []
    for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path))):
        if error.validator == "additionalProperties":
            extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
            errors.append(f"{_path(error.absolute_path)}: unknown key(s) {', '.join(map(repr, extra))}")
        else:
            errors.append(f"{_path(error.absolute_path)}: {error.message}")
    if errors:
        raise SchemaError(errors)

    entity_codes = [e["code"] for e in document["entity_types"]]
    for dup in _duplicates(entity_codes):
        errors.append(f"schema.entity_types: duplicate code {dup!r}")
    hotkeys = [e["hotkey"] for e in document["entity_types"] if "hotkey" in e]
    for dup in _duplicates(hotkeys):
        errors.append(f"schema.entity_types: hotkey {dup!r} is used twice")
    for dup in _duplicates([e["code"] for e in document["event_types"]]):
        errors.append(f"schema.event_types: duplicate code {dup!r}")
    for dup in _duplicates([s["code"] for s in document["stance_labels"]]):
        errors.append(f"schema.stance_labels: duplicate code {dup!r}")
    for dup in _duplicates(document["realis"]):
        errors.append(f"schema.realis: duplicate value {dup!r}")
    for dup in _duplicates(document.get("contexts", [])):
        errors.append(f"schema.contexts: duplicate value {dup!r}")
    known = set(entity_codes)
    for i, event_type in enumerate(document["event_types"]):
        role_names = [r["name"] for r in event_type["roles"]]
        for dup in _duplicates(role_names):
            errors.append(f"schema.event_types[{i}] ({event_type['code']}): duplicate role {dup!r}")
        for dup in _duplicates(event_type.get("modes", [])):
            errors.append(f"schema.event_types[{i}] ({event_type['code']}): duplicate mode {dup!r}")
        for j, role in enumerate(event_type["roles"]):
            where = f"schema.event_types[{i}].roles[{j}] ({event_type['code']}.{role['name']})"
            for code in role["entity_types"]:
                if code not in known:
                    errors.append(f"{where}: unknown entity type {code!r}")
            low, high = role.get("min", 0), role.get("max")
            if high is not None and high < low:
                errors.append(f"{where}: max {high} is below min {low}")
    for model_label, code in document.get("model_label_map", {}).items():
        if code not in known:
            errors.append(f"schema.model_label_map.{model_label}: unknown entity type {code!r}")
    if errors:
        raise SchemaError(errors)


@dataclass(frozen=True)
class Role:
    name: str
    min: int
    max: int | None
    entity_types: frozenset[str]


@dataclass(frozen=True)
class EventType:
    code: str
    modes: tuple[str, ...]
    roles: dict[str, Role]


class LabelSchema:
    """Read-only look-ups over a validated label schema document."""

    def __init__(self, document: dict[str, Any]):
        self.document = document

    @cached_property
    def entity_types(self) -> dict[str, dict[str, Any]]:
        return {e["code"]: e for e in self.document["entity_types"]}

    @cached_property
    def event_types(self) -> dict[str, EventType]:
        return {
            e["code"]: EventType(
                code=e["code"],
                modes=tuple(e.get("modes", [])),
                roles={
                    r["name"]: Role(r["name"], r.get("min", 0), r.get("max"), frozenset(r["entity_types"]))
                    for r in e["roles"]
                },
            )
            for e in self.document["event_types"]
        }

    @cached_property
    def realis(self) -> tuple[str, ...]:
        return tuple(self.document["realis"])

    @cached_property
    def contexts(self) -> tuple[str, ...]:
        return tuple(self.document.get("contexts", []))

    @cached_property
    def stance_labels(self) -> tuple[str, ...]:
        return tuple(s["code"] for s in self.document["stance_labels"])

    @cached_property
    def model_label_map(self) -> dict[str, str]:
        """spaCy label → schema entity code. Without a map, labels that are codes map to themselves."""
        explicit = self.document.get("model_label_map")
        if explicit is not None:
            return dict(explicit)
        return {code: code for code in self.entity_types}


def load_default_schema() -> dict[str, Any]:
    """The default geopolitics schema shipped in seeds/ (what a new project starts from)."""
    return load_schema_file(Path(settings.DEFAULT_SCHEMA_PATH))


def load_schema_file(path: Path) -> dict[str, Any]:
    """Read and validate a schema file; errors name the file."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SchemaError([f"{path}: no such file"]) from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SchemaError([f"{path}: not valid UTF-8 JSON ({exc})"]) from exc
    validate_label_schema(document)
    return document
