"""How selected layers become ExportDocuments, read in batches.

Layers are read in batches keyed on the article id, each batch with its mentions, events, arguments
and stances in a fixed number of queries, so memory and queries per article stay constant however
large the project.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import groupby
from operator import itemgetter
from typing import Any

import orjson
from django.contrib.auth import get_user_model
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet

from annotations.exports.base import (
    ExportDocument,
)
from annotations.exports.documents import ByEvent, Children, Page, document_of
from annotations.exports.splits import SplitAssignment
from annotations.models import Actor, Article, Event, EventArgument, Layer, Mention, Stance

BATCH_SIZE = 1000


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
# saved here). An empty provenance (or list of roles not stated) is read as NULL.
_CHILD_QUERIES = {
    "mentions": (
        "SELECT m.id, m.layer_id, m.label, m.start, m.{end}, m.text, m.score,"
        " a.name, a.country, a.sector, a.wikidata_id, NULLIF(m.provenance, {empty})"
        " FROM {mention} m LEFT JOIN {actor} a ON a.id = m.actor_id WHERE m.layer_id {in_page} ORDER BY m.layer_id"
    ),
    "events": (
        "SELECT e.id, e.layer_id, e.event_type, e.trigger_start, e.trigger_end, e.trigger_text, e.mode,"
        " e.realis, e.contexts, e.score, NULLIF(e.provenance, {empty}), NULLIF(e.not_stated, {none})"
        " FROM {event} e WHERE e.layer_id {in_page}"
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
        in_page, empty, none = "= ANY(%s::bigint[])", "'{}'::jsonb", "'[]'::jsonb"

        def listed(ids: list[int]) -> Any:
            return "{" + ",".join(map(str, ids)) + "}"
    else:  # SQLite, where JSON is stored as text
        in_page, empty, none = "IN (SELECT value FROM json_each(%s))", "'{}'", "'[]'"

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
            sql = query.format(end=connection.ops.quote_name("end"), in_page=in_page, empty=empty, none=none, **names)
            cursor.execute(sql, [listed(ids)])
            found[key] = cursor.fetchall()
    return found


def export_documents_of(
    layers: QuerySet[Layer], splits: SplitAssignment, batch_size: int = BATCH_SIZE
) -> Iterator[ExportDocument]:
    """Each layer as an ExportDocument with its split, in article order."""
    for page, children in _pages(layers, batch_size):
        parsed: dict[str, Any] = {}  # provenance text → value, for this page
        for row, mentions, events, arguments, stances in _grouped(page, children):
            yield document_of(row, mentions, events, arguments, stances, splits, parsed)


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
