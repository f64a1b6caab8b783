"""Machine layers: replace a model version's suggestions on a batch of articles, in one transaction.

Rows go in as plain multi-row INSERTs on a writer thread while the worker's NLP goes on, so a
retried or redelivered chunk never duplicates anything.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from django.db import connection, connections, models, transaction
from django.db.models import F
from django.utils import timezone

from annotations.errors import InvalidAnnotation
from annotations.models import (
    Article,
    ClusterMember,
    Event,
    EventArgument,
    EventResolution,
    Layer,
    Mention,
    MentionDate,
    Stance,
)
from annotations.schema import LabelSchema
from annotations.services.layers import deletions_record
from annotations.validation import validate_event, validate_event_complete, validate_span

if TYPE_CHECKING:
    from annotations.nlp import DocumentSuggestions


@contextmanager
def machine_layer_writer() -> Iterator[Callable[..., Callable[[], Counter[str]]]]:
    """Where machine layers get written: on a thread of their own while `nlp.pipe` parses the
    next texts (the writes wait on the database, so they overlap the parse almost for free).

    Each batch of articles is its own transaction, in order. Inside an outer transaction (eager runs
    in tests, or a caller's atomic block) a second connection couldn't see the caller's rows,
    so the writes then run inline.
    """
    if connection.in_atomic_block:

        def inline(fn: Callable[..., Counter[str]], *args: Any) -> Callable[[], Counter[str]]:
            result = fn(*args)
            return lambda: result

        yield inline
        return
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="layer-writer")
    try:
        yield lambda fn, *args: executor.submit(fn, *args).result
    finally:
        # The thread's own database connection goes with it.
        executor.submit(connections.close_all).result()
        executor.shutdown(wait=True)


def _machine_layers_clear(layer_ids: list[int]) -> None:
    """Delete machine layers' contents a statement per table (no per-row cascade collection).

    A machine layer's mentions are referenced only by its own events and stances (the write
    services refuse cross-layer references), so deleting by layer is complete.
    """
    EventArgument.objects.filter(event__layer_id__in=layer_ids)._raw_delete(using="default")
    # What services.dates and services.linking keep per mention and event (resolved again after the write).
    for derived in (MentionDate.objects.filter(mention__layer_id__in=layer_ids),
                    EventResolution.objects.filter(event__layer_id__in=layer_ids),
                    ClusterMember.objects.filter(event__layer_id__in=layer_ids)):  # fmt: skip
        derived._raw_delete(using="default")
    Stance.objects.filter(layer_id__in=layer_ids)._raw_delete(using="default")
    Event.objects.filter(layer_id__in=layer_ids)._raw_delete(using="default")
    Mention.objects.filter(layer_id__in=layer_ids)._raw_delete(using="default")
    Layer.objects.filter(pk__in=layer_ids).update(version=F("version") + 1)


class _RowInsert:
    """A multi-row INSERT of plain tuples into one model's table; returns the new ids in row order.

    Pre-annotation writes thousands of rows per chunk. A model instance per row with every field
    prepared (`bulk_create`), or one query parameter per value (which psycopg splices into the SQL
    in Python), cost more CPU than the rest of the write, and that CPU comes out of `nlp.pipe`'s
    share (the writer thread shares the GIL). So rows are plain tuples of the `columns` given,
    ready for the database, and every other concrete field gets its default, prepared once
    (creation times: now). PostgreSQL takes the rows as one JSON parameter, typed by the table
    itself (`json_populate_recordset`); SQLite binds parameters in C, so it gets plain VALUES.
    Ids increase in insertion order, so sorting the returned ones maps them to the rows.
    """

    def __init__(self, model: type[models.Model], columns: Sequence[str]):
        quote = connection.ops.quote_name
        meta = model._meta
        given: list[Any] = [meta.get_field(name) for name in columns]  # concrete fields, by their names
        others = [f for f in meta.concrete_fields if not f.primary_key and f not in given]
        now = timezone.now()
        self.constants = [
            f.get_db_prep_save(
                now if getattr(f, "auto_now_add", False) or getattr(f, "auto_now", False) else f.get_default(),
                connection,
            )
            for f in others
        ]
        self.fields: tuple[Any, ...] = (*given, *others)
        self.keys = [f.column for f in given]
        # JSON columns: PostgreSQL reads them from the JSON document as they are.
        self.json_columns = [i for i, f in enumerate(given) if isinstance(f, models.JSONField)]
        table = quote(meta.db_table)
        names = ", ".join(quote(f.column) for f in self.fields)
        returning = f"RETURNING {quote(meta.pk.column)}"
        self.postgres = connection.vendor == "postgresql"
        if self.postgres:
            picked = ", ".join([*(f"r.{quote(key)}" for key in self.keys), *(["%s"] * len(others))])
            source = f"json_populate_recordset(NULL::{table}, %s) r"
            self.sql = f"INSERT INTO {table} ({names}) SELECT {picked} FROM {source} {returning}"
        else:
            self.sql = f"INSERT INTO {table} ({names}) VALUES {{}} {returning}"

    def __call__(self, rows: Sequence[tuple[Any, ...]]) -> list[int]:
        if not rows:
            return []
        ids: list[int] = []
        with connection.cursor() as cursor:
            if self.postgres:
                document = json.dumps([dict(zip(self.keys, row, strict=True)) for row in rows], separators=(",", ":"))
                cursor.execute(self.sql, [*self.constants, document])
                ids = [row[0] for row in cursor.fetchall()]
            else:
                if self.json_columns:
                    rows = [self._prepared(row) for row in rows]
                size = max(1, connection.ops.bulk_batch_size(self.fields, rows))
                placeholder = "(" + ", ".join(["%s"] * len(self.fields)) + ")"
                for i in range(0, len(rows), size):
                    batch = rows[i : i + size]
                    params = [value for row in batch for value in (*row, *self.constants)]
                    cursor.execute(self.sql.format(", ".join([placeholder] * len(batch))), params)
                    ids.extend(row[0] for row in cursor.fetchall())
        if len(ids) != len(rows):
            raise RuntimeError(f"inserted {len(rows)} rows, got {len(ids)} ids back")
        return sorted(ids)

    def _prepared(self, row: tuple[Any, ...]) -> tuple[Any, ...]:
        out = list(row)
        for i in self.json_columns:
            out[i] = self.fields[i].get_db_prep_save(out[i], connection)
        return tuple(out)


def suggestion_key(kind: str, label: str, snapshot: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """What identifies a suggestion on its article across model versions (from a decision's
    snapshot): a mention's label and span, an event's type and trigger span, a stance's label,
    holder span (None: the author) and target span."""
    try:
        if kind == "mention":
            return ("mention", label, snapshot["start"], snapshot["end"])
        if kind == "event":
            return ("event", label, snapshot["trigger"]["start"], snapshot["trigger"]["end"])
        holder = snapshot.get("holder")
        target = snapshot["target"]
        return ("stance", label, (holder["start"], holder["end"]) if holder else None, (target["start"], target["end"]))
    except (KeyError, TypeError):
        return None


@transaction.atomic
def machine_layers_replace(
    *,
    results: Sequence[tuple[Article, DocumentSuggestions]],
    model_version: str,
    schema: LabelSchema,
    actor_ids: Mapping[str, int],
    rejected: Mapping[int, set[tuple[Any, ...]]] | None = None,
) -> Counter[str]:
    """Replace these articles' machine layers for this model version with their suggestions.

    One transaction for the lot (each article's layer is replaced whole, never half), a handful
    of statements whatever the number of articles. Suggestions that don't fit the text or the
    schema are dropped and counted, never stored. A skipped article gets no layer (and loses an
    old one of the same version). A suggestion annotators rejected on the article (`rejected`, keys
    of `suggestion_key`) is left out and counted; an event keeps its other arguments.
    """
    rejected = rejected or {}
    counts: Counter[str] = Counter()
    if not results:
        return counts
    article_ids = sorted(article.pk for article, _ in results)
    # Lock the article rows, in id order like every delivery, so two deliveries of one chunk
    # replace its layers one after the other.
    list(Article.objects.select_for_update().filter(pk__in=article_ids).order_by("pk").values_list("pk", flat=True))
    layer_ids = dict(
        Layer.objects.filter(
            article_id__in=article_ids, kind=Layer.Kind.MACHINE, model_version=model_version
        ).values_list("article_id", "pk")
    )
    if layer_ids:
        _machine_layers_clear(list(layer_ids.values()))
        # Replaced in place: `since=` exports see the layer changed (queryset writes skip auto_now).
        Layer.objects.filter(pk__in=list(layer_ids.values())).update(updated_at=timezone.now())
    gone = [layer_ids.pop(article.pk) for article, s in results if s.skipped and article.pk in layer_ids]
    if gone:
        deletions_record(layers=Layer.objects.filter(pk__in=gone), what="layer")
        Layer.objects.filter(pk__in=gone).delete()
    new_layers = Layer.objects.bulk_create(
        Layer(article=article, kind=Layer.Kind.MACHINE, model_version=model_version, status=Layer.Status.DONE)
        for article, s in results
        if not s.skipped and article.pk not in layer_ids
    )
    layer_ids.update((layer.article_id, layer.pk) for layer in new_layers)
    written = [(article, s, layer_ids[article.pk]) for article, s in results if not s.skipped]
    margins = [(layer_id, s.margin) for _, s, layer_id in written]
    if margins:
        Layer.objects.bulk_update(
            [Layer(pk=layer_id, margin=margin) for layer_id, margin in margins], ["margin"], batch_size=500
        )

    # Mentions first: events and stances point at them.
    mention_rows: list[tuple[Any, ...]] = []
    positions: list[list[int | None]] = []  # per article: suggestion index -> row index (None: dropped)
    for article, suggestions, layer_id in written:
        text = article.text
        at: list[int | None] = []
        seen: set[tuple[int, int, str]] = set()
        refused = rejected.get(article.pk, set())
        for s in suggestions.mentions:
            key = (s.start, s.end, s.label)
            if ("mention", s.label, s.start, s.end) in refused:
                at.append(None)
                counts["rejected_before"] += 1
                continue
            try:
                if s.label not in schema.entity_types:
                    raise InvalidAnnotation("label", s.label)
                validate_span(text, s.start, s.end, s.text, within_paragraph=True)
            except InvalidAnnotation:
                at.append(None)
                counts["dropped"] += 1
                continue
            if key in seen:
                at.append(None)
                continue
            seen.add(key)
            at.append(len(mention_rows))
            actor_id = actor_ids.get(s.actor_name) if s.actor_name else None
            mention_rows.append((layer_id, s.label, s.start, s.end, s.text, actor_id, s.score))
        positions.append(at)
    mention_ids = _RowInsert(Mention, ("layer", "label", "start", "end", "text", "actor", "score"))(mention_rows)
    counts["mentions"] += len(mention_ids)

    # validate_event checks role fillers as mentions: unsaved stand-ins, built only for those.
    standins: dict[int, Mention] = {}

    def standin(row: int) -> Mention:
        if row not in standins:
            layer_id, label, _, _, text, _, _ = mention_rows[row]
            standins[row] = Mention(pk=mention_ids[row], layer_id=layer_id, label=label, text=text)
        return standins[row]

    event_rows: list[tuple[Any, ...]] = []
    event_arguments: list[list[tuple[str, int]]] = []
    incomplete_layers: set[int] = set()  # layers holding an event without a required role
    for (article, suggestions, layer_id), at in zip(written, positions, strict=True):
        refused = rejected.get(article.pk, set())
        for e in suggestions.events:
            if ("event", e.event_type, e.trigger_start, e.trigger_end) in refused:
                counts["rejected_before"] += 1
                continue
            # an argument whose mention was rejected goes; one whose mention was invalid drops the event
            kept = [a for a in e.arguments if 0 <= a.mention < len(at)]
            kept = [
                a for a in kept if at[a.mention] is not None or not _mention_refused(suggestions, a.mention, refused)
            ]
            rows = [(a.role, at[a.mention]) for a in kept]
            try:
                if any(row is None for _, row in rows):
                    raise InvalidAnnotation("arguments", "argument points at a dropped mention")
                resolved = [(role, row) for role, row in rows if row is not None]
                validate_span(
                    article.text, e.trigger_start, e.trigger_end, e.trigger_text, field="trigger", within_paragraph=True
                )
                validate_event(
                    schema,
                    event_type=e.event_type,
                    mode=e.mode,
                    realis=e.realis,
                    contexts=e.contexts,
                    arguments=[(role, standin(row)) for role, row in resolved],
                    layer_id=layer_id,
                )
            except InvalidAnnotation:
                counts["dropped"] += 1
                continue
            event_rows.append(
                (
                    layer_id,
                    e.event_type,
                    e.trigger_start,
                    e.trigger_end,
                    e.trigger_text,
                    e.mode,
                    e.realis,
                    list(e.contexts),
                    e.score,
                )
            )
            event_arguments.append([(role, mention_ids[row]) for role, row in resolved])
            if validate_event_complete(
                schema, event_type=e.event_type, role_counts=Counter(role for role, _ in resolved)
            ):
                incomplete_layers.add(layer_id)
    event_ids = _RowInsert(
        Event,
        ("layer", "event_type", "trigger_start", "trigger_end", "trigger_text", "mode", "realis", "contexts", "score"),
    )(event_rows)
    _RowInsert(EventArgument, ("event", "role", "mention"))(
        [
            (event_id, role, mention_id)
            for event_id, arguments in zip(event_ids, event_arguments, strict=True)
            for role, mention_id in arguments
        ]
    )
    counts["events"] += len(event_ids)
    # A machine layer is done only when every event in it is complete: one with a required role
    # missing could not be marked done by hand either, so it stays in progress.
    written_ids = {layer_id for _, _, layer_id in written}
    Layer.objects.filter(pk__in=written_ids - incomplete_layers).exclude(status=Layer.Status.DONE).update(
        status=Layer.Status.DONE
    )
    Layer.objects.filter(pk__in=incomplete_layers).update(status=Layer.Status.IN_PROGRESS)

    stance_rows: list[tuple[Any, ...]] = []
    for (article, suggestions, layer_id), at in zip(written, positions, strict=True):
        refused = rejected.get(article.pk, set())
        for st in suggestions.stances:
            mentions = suggestions.mentions
            holder_span = None if st.holder is None else (mentions[st.holder].start, mentions[st.holder].end)
            target_span = (mentions[st.target].start, mentions[st.target].end)
            if ("stance", st.label, holder_span, target_span) in refused:
                counts["rejected_before"] += 1
                continue
            holder = at[st.holder] if st.holder is not None and 0 <= st.holder < len(at) else None
            target = at[st.target] if 0 <= st.target < len(at) else None
            try:
                if target is None or (st.holder is not None and holder is None):
                    raise InvalidAnnotation("target", "stance points at a dropped mention")
                if st.label not in schema.stance_labels:
                    raise InvalidAnnotation("label", st.label)
                validate_span(article.text, st.evidence_start, st.evidence_end, st.evidence_text, field="evidence")
            except InvalidAnnotation:
                counts["dropped"] += 1
                continue
            stance_rows.append(
                (
                    layer_id,
                    None if holder is None else mention_ids[holder],
                    mention_ids[target],
                    st.label,
                    st.scope if st.scope in Stance.Scope.values else Stance.Scope.SENTENCE,
                    st.evidence_start,
                    st.evidence_end,
                    st.evidence_text,
                    st.score,
                )
            )
    _RowInsert(
        Stance,
        ("layer", "holder", "target", "label", "scope", "evidence_start", "evidence_end", "evidence_text", "score"),
    )(stance_rows)
    counts["stances"] += len(stance_rows)
    return counts


def _mention_refused(suggestions: DocumentSuggestions, index: int, refused: set[tuple[Any, ...]]) -> bool:
    mention = suggestions.mentions[index]
    return ("mention", mention.label, mention.start, mention.end) in refused
