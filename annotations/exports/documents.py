"""One export document from the rows of a layer and its items (as `annotations.exports.reading` reads them).

Items are put in text order and named by position (m1, e1, s1…), so the same annotations give the same
bytes whatever their database ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

import orjson

from annotations.exports.base import (
    ActorJSON,
    ArticleJSON,
    EventJSON,
    ExportDocument,
    LayerJSON,
    MentionJSON,
    StanceJSON,
)
from annotations.exports.splits import SplitAssignment


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, (str, bytes)) else value


def _date(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.isoformat()


def _moment(value: Any) -> str:
    """A date-time column as ISO 8601 in UTC (SQLite hands raw SQL a naive UTC string)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).isoformat()


def _add_provenance(items: list[Any], rows: list[tuple[Any, ...]], column: int, parsed: dict[Any, Any]) -> None:
    """Each item's "provenance", where its row has one: items without it keep their old bytes.

    The queries read an empty provenance as NULL, so a layer without any is one pass in C.
    Items adjudicated together share their provenance's text: it is parsed once per page
    (`parsed`), and the items share the parsed value, which no writer changes.
    """
    if any(map(itemgetter(column), rows)):
        for item, row in zip(items, rows, strict=True):
            raw = row[column]
            if raw is None:
                continue
            if raw.__class__ is str:
                provenance = parsed.get(raw)
                if provenance is None:
                    provenance = parsed[raw] = orjson.loads(raw)
            else:  # a driver that parses JSON itself
                provenance = raw
            if provenance:
                item["provenance"] = provenance


def _add_not_stated(events: list[EventJSON], rows: list[tuple[Any, ...]], column: int) -> None:
    """Each event's "not_stated" roles, where it has some: other events keep their old bytes."""
    for event, row in zip(events, rows, strict=True):
        roles = row[column]
        if roles:
            event["not_stated"] = orjson.loads(roles) if roles.__class__ is str else roles


_mention_order = itemgetter(3, 4, 2)  # start, end, label (unique in a layer)


_event_order = itemgetter(3, 4, 2, 6, 7, 0)  # trigger start and end, type, mode, realis, id


_NAMES: dict[str, list[str]] = {"m": [], "e": [], "s": []}


def _positional_ids(count: int, prefix: str = "m") -> list[str]:
    """["m0", "m1", …] (or e…, s…), at least `count` of them, made once."""
    names = _NAMES[prefix]
    while len(names) < count:
        names.append(f"{prefix}{len(names)}")
    return names


def _actor_of(name: str | None, country: str, sector: str, wikidata_id: str) -> ActorJSON | None:
    if name is None:
        return None
    return {"name": name, "country": country, "sector": sector, "wikidata_id": wikidata_id}


Page = list[tuple[Any, ...]]


Children = dict[str, list[tuple[Any, ...]]]


ByEvent = dict[int, list[tuple[Any, ...]]]


def _ordered(
    mentions: list[tuple[Any, ...]],
    events: list[tuple[Any, ...]],
    arguments: dict[int, list[tuple[Any, ...]]],
    stances: list[tuple[Any, ...]],
) -> tuple[dict[int, int], list[tuple[Any, ...]], list[Sequence[tuple[Any, ...]]], list[tuple[Any, ...]]]:
    """A layer's rows in document order: mentions by (start, end, label), events by trigger then
    type, each event's arguments by role then mention, stances by evidence, holder and target.

    Sorts `mentions` and `events` in place; returns each mention id's position, the events,
    their arguments and the stances. The same annotations give the same order in any database.
    """
    mentions.sort(key=_mention_order)
    position = {m[0]: i for i, m in enumerate(mentions)}
    events.sort(key=_event_order)
    filled: list[Sequence[tuple[Any, ...]]] = []
    for event in events:
        given = arguments.get(event[0], ())
        filled.append(sorted(given, key=lambda a: (a[1], position[a[2]])) if len(given) > 1 else given)
    if len(stances) > 1:
        stances = sorted(
            stances,
            key=lambda s: (
                s[6] is not None,
                s[6] or 0,
                s[7] or 0,
                position.get(s[2], -1) if s[2] else -1,
                position.get(s[3], -1) if s[3] else -1,
                s[4],
                s[0],
            ),
        )
    return position, events, filled, stances


def _layer_json(layer: tuple[Any, ...]) -> LayerJSON:
    (_, annotator, _, kind, model_version, status, *_, adjudicated_by, adjudicated_at) = layer
    layer_json: LayerJSON = {
        "kind": kind,
        "annotator": annotator,
        "model_version": model_version or None,
        "status": status,
    }
    if adjudicated_by is not None:
        layer_json["adjudicated_by"] = adjudicated_by
    if adjudicated_at is not None:
        layer_json["adjudicated_at"] = _moment(adjudicated_at)
    return layer_json


def document_of(
    layer: tuple[Any, ...],
    mentions: list[tuple[Any, ...]],
    events: list[tuple[Any, ...]],
    arguments: dict[int, list[tuple[Any, ...]]],
    stances: list[tuple[Any, ...]],
    splits: SplitAssignment,
    parsed: dict[str, Any],
) -> ExportDocument:
    """One layer as a self-contained document; ids are positions (m0, e0, s0) in `_ordered`'s order."""
    position, events, filled, stances = _ordered(mentions, events, arguments, stances)
    names = _positional_ids(len(mentions))
    mention_json: list[MentionJSON] = [
        {
            "id": positional,
            "label": label,
            "start": start,
            "end": end,
            "text": quoted,
            "actor": (
                {"name": name, "country": country, "sector": sector, "wikidata_id": wikidata_id}
                if name is not None
                else None
            ),
            "score": score,
        }
        for positional, (_, _, label, start, end, quoted, score, name, country, sector, wikidata_id, _) in zip(
            names,
            mentions,
            strict=False,  # names: a shared list, longer than this layer needs
        )
    ]
    _add_provenance(mention_json, mentions, 11, parsed)
    event_names = _positional_ids(len(events), "e")
    event_json: list[EventJSON] = [
        {
            "id": event_names[i],
            "type": event_type,
            "trigger": {"start": trigger_start, "end": trigger_end, "text": trigger_text},
            "mode": mode or None,
            "realis": realis,
            "contexts": orjson.loads(contexts) if contexts.__class__ is str else contexts,
            "score": score,
            "arguments": [{"role": role, "mention": names[position[mention]]} for _, role, mention in given],
        }
        for i, ((_, _, event_type, trigger_start, trigger_end, trigger_text, mode, realis, contexts, score, _, _),
                given) in enumerate(zip(events, filled, strict=True))
    ]  # fmt: skip
    _add_provenance(event_json, events, 10, parsed)
    _add_not_stated(event_json, events, 11)
    stance_names = _positional_ids(len(stances), "s")
    stance_json: list[StanceJSON] = [
        {
            "id": stance_names[i],
            "holder": names[position[holder]] if holder else None,
            "target": names[position[target]] if target else None,
            "target_actor": _actor_of(*actor),
            "label": label,
            "scope": scope,
            "evidence": (
                {"start": evidence_start, "end": evidence_end, "text": evidence_text}
                if evidence_start is not None and evidence_end is not None
                else None
            ),
            "score": score,
        }
        for i, (_, _, holder, target, label, scope, evidence_start, evidence_end, evidence_text, score, _,
                *actor) in enumerate(stances)
    ]  # fmt: skip
    _add_provenance(stance_json, stances, 10, parsed)
    return {
        **_article_json(layer, splits),
        "layer": _layer_json(layer),
        "mentions": mention_json,
        "events": event_json,
        "stances": stance_json,
    }


def _article_json(layer: tuple[Any, ...], splits: SplitAssignment) -> ArticleJSON:
    """The article's fields of a document, with its story key (its own key when it has none) and split."""
    (_, _, _, _, _, _, content_hash, story_key, title, text, source, url, published, language, metadata,
     *_) = layer  # fmt: skip
    return {
        "id": content_hash,
        "title": title,
        "text": text,
        "source": source,
        "url": url,
        "published": _date(published),
        "language": language,
        "metadata": _json(metadata),
        "story": story_key or content_hash,
        "split": splits.split_of(story_key, content_hash),
    }
