"""The event dataset: one JSON line per real-world event (PLOVER field names where PLOVER has one).

Reads the documents `exports.event_data` enriched: events of a cluster (the linking job's) make one
row; with `clusters=all` proposed clusters and events in no cluster (one row each) come too, else
only confirmed clusters. Per row: `id`, `date` (+ `date_granularity`), `event_type`, `mode`, `context`,
`realis`, `actor` and `recipient` (name, ISO-3 `country`, `sector` from the registry; unlinked ones by
their text), `location` (`placename`, `country`), `num_sources` and `sources` (per article: key,
outlet, url, published, trigger, evidence sentence), the cluster's `status` and `confidence`. A row
holds the events of every source the export selected (`sources=reliable`, the default for this
format, leaves out flagged sources; a cluster with none left makes no row). Rows come in date order.

The rows need every document first (a cluster spans articles): memory grows with the events exported.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from annotations.dates import sentence_bounds
from annotations.exports.base import Chunk, ExportDocument, WriterContext

MEMBER = "events.jsonl"
ACTOR_ROLES = ("actor", "recipient")


@dataclass
class EventRow:
    id: str
    status: str
    confidence: float | None
    date: str | None = None
    date_granularity: str | None = None
    place: str | None = None
    types: Counter[str] = field(default_factory=Counter)
    modes: Counter[str] = field(default_factory=Counter)
    realis: Counter[str] = field(default_factory=Counter)
    contexts: dict[str, None] = field(default_factory=dict)
    parties: dict[str, dict[tuple[str, str], dict[str, Any]]] = field(
        default_factory=lambda: {role: {} for role in ACTOR_ROLES}
    )
    place_country: str | None = None
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)


def _party(mention: dict[str, Any]) -> tuple[tuple[str, str], dict[str, Any]]:
    actor = mention.get("actor")
    if actor:
        return ("actor", actor["name"]), {
            "name": actor["name"],
            "country": actor["country"] or None,
            "sector": actor["sector"] or None,
        }
    return ("text", mention["text"].lower()), {"name": mention["text"], "country": None, "sector": None}


def event_rows(documents: Iterable[ExportDocument], context: WriterContext) -> list[dict[str, Any]]:
    everything = context.options.get("clusters") == "all"
    rows: dict[str, EventRow] = {}
    for document in documents:
        mentions = {m["id"]: m for m in document["mentions"]}
        for event in document["events"]:
            item: dict[str, Any] = event  # type: ignore[assignment]
            cluster = item.get("cluster")
            if cluster is None and not everything:
                continue
            if cluster is not None and cluster["status"] != "confirmed" and not everything:
                continue
            if cluster is not None:
                key = f"cluster-{cluster['id']}"
                row = rows.get(key) or EventRow(key, cluster["status"], cluster["confidence"])
                row.date, row.date_granularity = cluster["date"], cluster["date_granularity"]
                row.place = cluster["place"]
            else:
                key = f"{document['id'][:16]}-{event['id']}"
                row = rows.get(key) or EventRow(key, "single", None)
                row.date, row.date_granularity = item.get("date"), item.get("date_granularity")
                row.place = (item.get("place") or {}).get("name") or (item.get("place") or {}).get("text")
            rows[key] = row
            row.types[event["type"]] += 1
            if event["mode"]:
                row.modes[event["mode"]] += 1
            row.realis[event["realis"]] += 1
            row.contexts.update(dict.fromkeys(event["contexts"]))
            place = item.get("place")
            if place and place.get("country") and (place.get("name") == row.place or row.place_country is None):
                row.place_country = place["country"]
            for argument in event["arguments"]:
                if argument["role"] in ACTOR_ROLES:
                    ident, party = _party(dict(mentions[argument["mention"]]))
                    row.parties[argument["role"]].setdefault(ident, party)
            if document["id"] not in row.sources:
                start, end = sentence_bounds(document["text"], event["trigger"]["start"])
                row.sources[document["id"]] = {
                    "article": document["id"],
                    "title": document["title"],
                    "outlet": document["source"] or None,
                    "url": document["url"] or None,
                    "published": document["published"],
                    "trigger": event["trigger"]["text"],
                    "evidence": " ".join(document["text"][start:end].split()),
                }
    out = []
    for row in rows.values():
        linked = {role: [p for (kind, _), p in row.parties[role].items() if kind == "actor"] for role in ACTOR_ROLES}
        unlinked = {role: [p for (kind, _), p in row.parties[role].items() if kind == "text"] for role in ACTOR_ROLES}
        out.append(
            {
                "id": row.id,
                "date": row.date,
                "date_granularity": row.date_granularity,
                "event_type": row.types.most_common(1)[0][0],
                "mode": row.modes.most_common(1)[0][0] if row.modes else None,
                "context": list(row.contexts),
                "realis": row.realis.most_common(1)[0][0],
                "actor": linked["actor"] + unlinked["actor"],
                "recipient": linked["recipient"] + unlinked["recipient"],
                "location": {"placename": row.place, "country": row.place_country} if row.place else None,
                "num_sources": len(row.sources),
                "sources": list(row.sources.values()),
                "status": row.status,
                "confidence": row.confidence,
            }
        )
    out.sort(key=lambda r: (r["date"] or "9999", r["id"]))
    return out


def write(documents: Iterable[ExportDocument], context: WriterContext) -> Iterator[Chunk]:
    yield Chunk(MEMBER, b"")
    wanted = (d for d in documents if d["split"] in context.splits)
    for row in event_rows(wanted, context):
        yield Chunk(MEMBER, orjson.dumps(row, option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE))
