"""The event dataset as CSV: the rows of `exports.events`, one per real-world event, flattened.

Lists are joined with ` | ` (actors as `name (COUNTRY/SECTOR)`), one column per source field.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

from annotations.exports.base import Chunk, ExportDocument, WriterContext
from annotations.exports.events import event_rows

MEMBER = "events.csv"
COLUMNS = (
    "id",
    "date",
    "date_granularity",
    "event_type",
    "mode",
    "context",
    "realis",
    "actor",
    "actor_country",
    "recipient",
    "recipient_country",
    "placename",
    "country",
    "num_sources",
    "source_articles",
    "outlets",
    "urls",
    "triggers",
    "evidence",
    "status",
    "confidence",
)


def _parties(parties: list[dict[str, Any]]) -> tuple[str, str]:
    names = " | ".join(
        p["name"] + (f" ({p['country'] or ''}/{p['sector'] or ''})" if p["country"] or p["sector"] else "")
        for p in parties
    )
    countries = " | ".join(dict.fromkeys(p["country"] for p in parties if p["country"]))
    return names, countries


def flat(row: dict[str, Any]) -> list[Any]:
    actor, actor_country = _parties(row["actor"])
    recipient, recipient_country = _parties(row["recipient"])
    location = row["location"] or {}
    sources = row["sources"]

    def joined(name: str) -> str:
        return " | ".join(str(s[name] or "") for s in sources)

    return [
        row["id"],
        row["date"] or "",
        row["date_granularity"] or "",
        row["event_type"],
        row["mode"] or "",
        " | ".join(row["context"]),
        row["realis"],
        actor,
        actor_country,
        recipient,
        recipient_country,
        location.get("placename") or "",
        location.get("country") or "",
        row["num_sources"],
        joined("article"),
        joined("outlet"),
        joined("url"),
        joined("trigger"),
        joined("evidence"),
        row["status"],
        "" if row["confidence"] is None else row["confidence"],
    ]


def write(documents: Iterable[ExportDocument], context: WriterContext) -> Iterator[Chunk]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    yield Chunk(MEMBER, buffer.getvalue().encode("utf-8"))
    wanted = (d for d in documents if d["split"] in context.splits)
    for row in event_rows(wanted, context):
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(flat(row))
        yield Chunk(MEMBER, buffer.getvalue().encode("utf-8"))
