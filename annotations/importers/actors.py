"""The actor registry as JSON Lines (one actor per line) or CSV (a header row, one actor per row).

{"name": "Niger", "kind": "GPE", "aliases": ["Republic of Niger"], "country": "NER", "sector": "GOV",
"wikidata_id": "Q1032", "description": "..."}: `name` and `kind` are required, the rest optional.
In CSV the columns have the same names and `aliases` holds the spellings separated by `|`.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from annotations.errors import ImportFailed
from annotations.importers.base import (
    json_lines,
    json_type_name,
    max_length,
    required_string,
    string_field,
    unknown_fields,
)
from annotations.models import Actor

FIELDS = frozenset({"name", "kind", "aliases", "country", "sector", "wikidata_id", "description"})


@dataclass(frozen=True)
class ActorInput:
    """One actor line, ready for `services.actor_upsert(**fields)`; `line` is where it came from."""

    line: int
    name: str
    kind: str
    aliases: list[str] = field(default_factory=list)
    country: str = ""
    sector: str = ""
    wikidata_id: str = ""
    description: str = ""

    def upsert_kwargs(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "aliases": self.aliases,
            "country": self.country,
            "sector": self.sector,
            "wikidata_id": self.wikidata_id,
            "description": self.description,
        }


def actor_from(record: dict[str, Any], number: int, where: str) -> tuple[ActorInput | None, list[str]]:
    errors = unknown_fields(record, FIELDS, where)
    name, kind = (
        required_string(record, column, where, errors, max_length=max_length(Actor, column))
        for column in ("name", "kind")
    )
    country, sector, wikidata_id = (
        string_field(record, column, where, errors, max_length=max_length(Actor, column))
        for column in ("country", "sector", "wikidata_id")
    )
    description = string_field(record, "description", where, errors, max_length=100_000)
    aliases = record.get("aliases") or []
    if not isinstance(aliases, list) or not all(isinstance(alias, str) for alias in aliases):
        errors.append(f"{where}: field 'aliases' must be an array of strings, not {json_type_name(aliases)}")
    if errors:
        return None, errors
    actor = ActorInput(
        line=number,
        name=name,
        kind=kind,
        aliases=aliases,
        country=country,
        sector=sector,
        wikidata_id=wikidata_id,
        description=description,
    )
    return actor, []


def _csv_rows(path: Path, errors: list[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or not {"name", "kind"} <= set(reader.fieldnames):
                errors.append(f"{path}:1: the header row must name at least the columns 'name' and 'kind'")
                return
            for row in reader:
                if None in row:
                    errors.append(f"{path}:{reader.line_num}: more values than columns")
                    continue
                record: dict[str, Any] = {key: (value or "").strip() for key, value in row.items()}
                record["aliases"] = [a.strip() for a in record.get("aliases", "").split("|") if a.strip()]
                yield reader.line_num, {key: value for key, value in record.items() if value != ""}
    except UnicodeDecodeError as exc:
        errors.append(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})")
    except OSError as exc:
        errors.append(f"{path}: {exc.strerror or exc}")


def read_actors(path: Path) -> list[ActorInput]:
    """The actors of a `.jsonl` or `.csv` file; ImportFailed lists every problem with its line."""
    actors: list[ActorInput] = []
    errors: list[str] = []
    if path.suffix.lower() not in (".jsonl", ".csv"):
        raise ImportFailed([f"{path}: unsupported actor file type {path.suffix or '(none)'!r}; use .jsonl or .csv"])
    rows = _csv_rows(path, errors) if path.suffix.lower() == ".csv" else json_lines(path, errors)
    for number, record in rows:
        actor, problems = actor_from(record, number, f"{path}:{number}")
        errors += problems
        if actor is not None:
            actors.append(actor)
    if errors:
        raise ImportFailed(errors)
    return actors
