"""Which layer of which articles an export reads, and how a layer becomes an ExportDocument.

Selector syntax (`--layer`): `gold` (default), `annotator:USERNAME`, `machine:VERSION` or
`machine:latest` (the model version of the project's most recently written machine layer).
Articles without the selected layer are left out. Layers are read in batches keyed on the
article id, each batch with its mentions, events, arguments and stances in a fixed number of
queries, so memory and queries per article stay constant however large the project.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import groupby
from operator import itemgetter
from typing import Any

import orjson
from django.contrib.auth import get_user_model
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet
from django.utils import timezone

from annotations.exports.base import (
    ActorJSON,
    ArticleJSON,
    EventJSON,
    ExportDocument,
    ExportOptionError,
    LayerJSON,
    MentionJSON,
    StanceJSON,
)
from annotations.exports.splits import Ratios, split_of
from annotations.models import Actor, Article, Event, EventArgument, Layer, Mention, Project, Stance

BATCH_SIZE = 1000
LAYER_SELECTOR_HELP = "gold, annotator:USERNAME, machine:VERSION or machine:latest"


@dataclass(frozen=True)
class LayerSelector:
    kind: str  # gold | annotator | machine
    name: str = ""  # the annotator's username or the model version ("latest" until resolved)

    def __str__(self) -> str:
        return self.kind if not self.name else f"{self.kind}:{self.name}"


def parse_layer_selector(value: str) -> LayerSelector:
    text = value.strip() if isinstance(value, str) else ""
    kind, _, name = text.partition(":")
    if kind == "gold" and not name and ":" not in text:
        return LayerSelector("gold")
    if kind in ("annotator", "machine") and name.strip():
        return LayerSelector(kind, name.strip())
    raise ExportOptionError("layer", f"{value!r} is not a layer selector; use {LAYER_SELECTOR_HELP}")


def parse_since(value: str | datetime | None) -> datetime | None:
    """An ISO date or date-time; without a zone it is read in the project's TIME_ZONE."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise ExportOptionError(
                "since", f"{value!r} is not an ISO date or date-time (such as 2024-04-12 or 2024-04-12T08:00:00Z)"
            ) from None
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


# The gold layer is gold once a reviewer has adjudicated it: that is what a gold export takes
# unless a status is asked for.
DEFAULT_GOLD_STATUSES = ("adjudicated",)


def parse_statuses(value: str | Sequence[str] | None, *, layer: LayerSelector | None = None) -> tuple[str, ...]:
    """Layer statuses to keep ('done,adjudicated'); 'all' or empty keeps every status.

    Not given (None): adjudicated gold layers for the gold selector, every status otherwise.
    """
    if value is None:
        return DEFAULT_GOLD_STATUSES if layer is not None and layer.kind == "gold" else ()
    items = value.split(",") if isinstance(value, str) else list(value)
    statuses = tuple(dict.fromkeys(item.strip() for item in items if item.strip()))
    unknown = [s for s in statuses if s not in Layer.Status.values and s != "all"]
    if unknown:
        raise ExportOptionError(
            "status",
            f"unknown layer status {', '.join(map(repr, unknown))}; allowed: {', '.join(Layer.Status.values)} or all",
        )
    return () if "all" in statuses else statuses


@dataclass(frozen=True)
class Selection:
    """A resolved selection: `model_version` is set for machine layers, `annotator_id` for annotators.

    `empty` means nothing can match (machine:latest in a project without machine layers).
    """

    project: Project
    layer: LayerSelector
    statuses: tuple[str, ...] = ()
    since: datetime | None = None
    annotator_id: int | None = None
    model_version: str = ""
    empty: bool = False


def selection_resolve(
    *, project: Project, layer: LayerSelector, statuses: tuple[str, ...] = (), since: datetime | None = None
) -> Selection:
    """Look up the annotator or the latest model version; an unknown username is an error."""
    if layer.kind == "annotator":
        user_id = get_user_model().objects.filter(username=layer.name).values_list("pk", flat=True).first()
        if user_id is None:
            raise ExportOptionError("layer", f"no user named {layer.name!r}")
        return Selection(project, layer, statuses, since, annotator_id=user_id)
    if layer.kind == "machine":
        version = layer.name
        if version == "latest":
            version = (
                Layer.objects.filter(article__project=project, kind=Layer.Kind.MACHINE)
                .order_by("-created_at", "-id")
                .values_list("model_version", flat=True)
                .first()
            ) or ""
        return Selection(project, layer, statuses, since, model_version=version, empty=not version)
    return Selection(project, layer, statuses, since)


def selected_layers(selection: Selection) -> QuerySet[Layer]:
    layers = Layer.objects.filter(article__project=selection.project, kind=selection.layer.kind)
    if selection.empty:
        return layers.none()
    if selection.annotator_id is not None:
        layers = layers.filter(annotator_id=selection.annotator_id)
    if selection.model_version:
        layers = layers.filter(model_version=selection.model_version)
    if selection.statuses:
        layers = layers.filter(status__in=selection.statuses)
    if selection.since is not None:
        layers = layers.filter(article__created_at__gt=selection.since)
    return layers


# --- Reading layers in batches -----------------------------------------------------------------

# Columns read per batch. Plain tuples straight from the database cursor: a model instance per
# mention would cost more than everything else in an export.
_LAYER = (
    "id",
    "kind",
    "model_version",
    "status",
    "article__content_hash",
    "article__story_key",
    "article__title",
    "article__text",
    "article__source",
    "article__url",
    "article__published",
    "article__language",
    "article__metadata",
)
# The annotations of a page of layers, one query per table, by layer id. Plain SQL: built by the
# ORM, a list of a thousand ids costs more to compile than to run, and a subquery in its place
# leads the planner to scan whole tables. Ordered by layer (free: the index scan gives that
# order), each layer's rows come together; the document order is made in Python, where the
# reading thread's database isn't waiting on it (sorting there too cost the server more than it
# saved here). An empty provenance is read as NULL.
_CHILD_QUERIES = {
    "mentions": (
        "SELECT m.id, m.layer_id, m.label, m.start, m.{end}, m.text, m.score,"
        " a.name, a.country, a.sector, a.wikidata_id, NULLIF(m.provenance, {empty})"
        " FROM {mention} m LEFT JOIN {actor} a ON a.id = m.actor_id WHERE m.layer_id {in_page} ORDER BY m.layer_id"
    ),
    "events": (
        "SELECT e.id, e.layer_id, e.event_type, e.trigger_start, e.trigger_end, e.trigger_text, e.mode,"
        " e.realis, e.contexts, e.score, NULLIF(e.provenance, {empty}) FROM {event} e WHERE e.layer_id {in_page}"
        " ORDER BY e.layer_id"
    ),
    # by the ids of the events just read: a join on the layer ids would scan every argument
    "arguments": (
        "SELECT g.event_id, g.role, g.mention_id FROM {argument} g WHERE g.event_id {in_page} ORDER BY g.event_id"
    ),
    "stances": (
        "SELECT s.id, s.layer_id, s.holder_id, s.target_id, s.label, s.scope, s.evidence_start, s.evidence_end,"
        " s.evidence_text, s.score, NULLIF(s.provenance, {empty}), a.name, a.country, a.sector, a.wikidata_id"
        " FROM {stance} s LEFT JOIN {actor} a ON a.id = s.target_actor_id WHERE s.layer_id {in_page}"
        " ORDER BY s.layer_id"
    ),
}


def _children(connection: Any, layer_ids: list[int]) -> dict[str, list[tuple[Any, ...]]]:
    """Rows of _CHILD_QUERIES for these layers: the ids go as one parameter, an array or JSON as text.

    As text, not as a list: psycopg adapts a list of a thousand ints in Python, item by item,
    which cost as much as building the documents' arguments.
    """
    if connection.vendor == "postgresql":
        in_page, empty = "= ANY(%s::bigint[])", "'{}'::jsonb"

        def listed(ids: list[int]) -> Any:
            return "{" + ",".join(map(str, ids)) + "}"
    else:  # SQLite, where JSON is stored as text
        in_page, empty = "IN (SELECT value FROM json_each(%s))", "'{}'"

        def listed(ids: list[int]) -> Any:
            return orjson.dumps(ids).decode()

    names = {
        "mention": Mention._meta.db_table,
        "actor": Actor._meta.db_table,
        "event": Event._meta.db_table,
        "argument": EventArgument._meta.db_table,
        "stance": Stance._meta.db_table,
    }
    names = {key: connection.ops.quote_name(name) for key, name in names.items()}
    found: dict[str, list[tuple[Any, ...]]] = {}
    with connection.cursor() as cursor:
        for key, query in _CHILD_QUERIES.items():
            ids = [row[0] for row in found["events"]] if key == "arguments" else layer_ids
            sql = query.format(end=connection.ops.quote_name("end"), in_page=in_page, empty=empty, **names)
            cursor.execute(sql, [listed(ids)])
            found[key] = cursor.fetchall()
    return found


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


def export_documents_of(
    layers: QuerySet[Layer], ratios: Ratios, batch_size: int = BATCH_SIZE
) -> Iterator[ExportDocument]:
    """Each layer as an ExportDocument with its split, in article order."""
    for page, children in _pages(layers, batch_size):
        parsed: dict[str, Any] = {}  # provenance text → value, for this page
        for row, mentions, events, arguments, stances in _grouped(page, children):
            yield _document(row, mentions, events, arguments, stances, ratios, parsed)


def _pages(layers: QuerySet[Layer], batch_size: int) -> Iterator[tuple[Page, Children]]:
    """The selected layers' rows a page at a time, each page with its annotations' rows.

    Keyset pagination on the article id (a selector matches at most one layer per article);
    each page is five queries: layers with their articles, mentions, events, arguments,
    stances. Memory and queries per article stay constant however large the project.

    While one page is turned into output, a helper thread already reads the next one on the
    same database connection (shared with it for the export's duration): the database works
    while Python builds the output, which makes the export about a third faster.
    """
    connection = connections[layers.db]
    ordered = layers.order_by("article_id")
    username = get_user_model().USERNAME_FIELD
    fields = ("article_id", f"annotator__{username}", *_LAYER, f"adjudicated_by__{username}", "adjudicated_at")
    article_id = f"{connection.ops.quote_name(Article._meta.db_table)}.{connection.ops.quote_name('id')}"

    def page_after(after: int) -> tuple[str, Any] | None:
        """The SQL of the page after an article id, compiled here, in the consumer's thread."""
        try:
            # The same condition on the article's side of the join (Django would turn
            # article__pk into the layer's column) lets its index scan start at `after` rather
            # than walk every earlier article: without it a page took longer the further it was.
            page = ordered.filter(article_id__gt=after).extra(where=[f"{article_id} > %s"], params=[after])
            return page[:batch_size].values_list(*fields).query.sql_with_params()
        except EmptyResultSet:  # a selection that can match nothing (machine:latest without machine layers)
            return None

    def read(query: tuple[str, Any]) -> tuple[Page, Children]:
        with connection.cursor() as cursor:
            cursor.execute(*query)
            page = cursor.fetchall()
        return page, _children(connection, [row[2] for row in page]) if page else {}

    query = page_after(0)
    if query is None:
        return
    connection.inc_thread_sharing()
    reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="export-reader")
    pending: Future[Any] | None = reader.submit(read, query)
    try:
        with _gc_frozen():
            while pending is not None:
                page, children = pending.result()
                pending = None
                if len(page) == batch_size and (query := page_after(page[-1][0])) is not None:
                    pending = reader.submit(read, query)
                yield page, children
    finally:
        if pending is not None:
            pending.cancel()
        reader.shutdown(wait=True)
        connection.dec_thread_sharing()


_freezes = 0
_freezes_lock = threading.Lock()


@contextlib.contextmanager
def _gc_frozen() -> Iterator[None]:
    """Keep what the process held before the export out of the garbage collector's passes until it ends.

    An export allocates rows, lists and dictionaries by the million; each time enough of them
    outlive a page, a full collection walks every object of the process again (Django, the app,
    some 160,000 before the first row): 1.8 s of a 20 s export of 100,000 articles. Frozen,
    those are skipped (`gc.freeze`): the export's own garbage is still collected. Overlapping
    exports share one freeze, lifted when the last one ends.
    """
    global _freezes
    with _freezes_lock:
        if _freezes == 0:
            gc.freeze()
        _freezes += 1
    try:
        yield
    finally:
        with _freezes_lock:
            _freezes -= 1
            if _freezes == 0:
                gc.unfreeze()


def _grouped(page: Page, children: Children) -> Iterator[tuple[tuple[Any, ...], Page, Page, ByEvent, Page]]:
    """Each layer row of a page with its mentions, events, (all the page's) arguments by event, stances."""
    by_layer, by_event = itemgetter(1), itemgetter(0)
    mentions = {layer_id: list(rows) for layer_id, rows in groupby(children.get("mentions", ()), by_layer)}
    events = {layer_id: list(rows) for layer_id, rows in groupby(children.get("events", ()), by_layer)}
    arguments = {event_id: list(rows) for event_id, rows in groupby(children.get("arguments", ()), by_event)}
    stances = {layer_id: list(rows) for layer_id, rows in groupby(children.get("stances", ()), by_layer)}
    for row in page:
        layer_id = row[2]
        yield row, mentions.get(layer_id, []), events.get(layer_id, []), arguments, stances.get(layer_id, [])


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


def _document(
    layer: tuple[Any, ...],
    mentions: list[tuple[Any, ...]],
    events: list[tuple[Any, ...]],
    arguments: dict[int, list[tuple[Any, ...]]],
    stances: list[tuple[Any, ...]],
    ratios: Ratios,
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
        for i, ((_, _, event_type, trigger_start, trigger_end, trigger_text, mode, realis, contexts, score, _),
                given) in enumerate(zip(events, filled, strict=True))
    ]  # fmt: skip
    _add_provenance(event_json, events, 10, parsed)
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
        **_article_json(layer, ratios),
        "layer": _layer_json(layer),
        "mentions": mention_json,
        "events": event_json,
        "stances": stance_json,
    }


def _article_json(layer: tuple[Any, ...], ratios: Ratios) -> ArticleJSON:
    """The article's fields of a document, with its split."""
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
        "split": split_of(story_key, content_hash, ratios),
    }


def entity_labels_in(layers: QuerySet[Layer]) -> set[str]:
    return set(Mention.objects.filter(layer__in=layers).values_list("label", flat=True).distinct())
