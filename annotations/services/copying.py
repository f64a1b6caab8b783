"""Copying items of other layers of an article into one of its layers, through the annotation services.

Review picks and merges annotators' items into gold (with a provenance on each copy); accepting a
suggestion copies a machine item into an annotator's or the gold layer (without one). An event
comes with its argument mentions, a stance with its holder and target mentions. Every write goes
through `annotations.services`, so the schema and the layer's state are checked as for any other
write: an adjudicated gold layer refuses (InvalidAnnotation on `layer`), each new item bumps the
layer version.

The same item. A copy is not made when the layer already holds the same item; the copier then
reports that one instead. What makes two items the same (the keys below) is what makes them one
version in review (`annotations.review.groups_of`), so what a review shows in gold is what a copy
finds there:
- a mention: its span and label (at most one per layer; the database says so too);
- an event: its type, trigger span, arguments as (role, span, label), a multiset, and the roles
  it says the text does not state (`not_stated`, as a set); mode,
  realis and contexts are what the event is said to be, not which event it is, so an event the
  layer holds with another mode is not doubled (a reviewer's or annotator's correction stands);
- a stance: holder span (or the author), target span (or the target actor when no target
  mention) and label; with `stance_evidence`, also its evidence span. Suggestions need that: one
  machine layer holds a stance per evidence sentence for the same holder, target and label (as
  pre-annotation writes them), and each accepted one keeps its own sentence. Gold does not: a
  review compares stances as one unit per holder and target, as agreement does.

Reporting. `created` lists every item the copies added, argument, holder and target mentions
included; `existing` the items asked for that the layer held already (a mention reused inside an
event or stance is not listed: it was not asked for).

Queries. The layer's items are read once per kind, on the first copy of that kind; a copy that
finds its item costs no query. Sources should come with their related rows (`with_copied_rows`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Prefetch, QuerySet

from annotations.models import Event, EventArgument, Layer, Mention, Stance
from annotations.review import (
    Key,
    event_key,
    mention_key,
    stance_key,
)
from annotations.services.items import (
    event_create,
    mention_create,
    stance_create,
)

# What a copy records about how it got there, given the key of what it copies (see review.provenance).
ProvenanceOf = Callable[[Key], dict[str, Any]]


class ItemCopier:
    """Copies items into one layer, reusing the same items it holds (see the module docstring).

    `provenance` gives the record each new item keeps (none: `{}`); `stance_evidence` tells
    stances apart by their evidence span too. Call within the caller's transaction, after its
    version check.
    """

    def __init__(self, layer: Layer, *, provenance: ProvenanceOf | None = None, stance_evidence: bool = False):
        self.layer = layer
        self.provenance = provenance
        self.stance_evidence = stance_evidence
        self.created: list[tuple[str, int]] = []
        self.existing: list[tuple[str, int]] = []
        self._held: dict[str, dict[Key, int]] = {}

    def copy(self, kind: str, source: Any) -> int:
        """Copy one item (a mention, event or stance of another layer); the id of the copy or of the same item."""
        if kind == "mention":
            return self._mention(source, listed=True)
        if kind == "event":
            return self._event(source)
        if kind == "stance":
            return self._stance(source)
        raise ValueError(f"unknown kind {kind!r}; use mention, event or stance")

    # --- what the layer holds -----------------------------------------------------------------

    def _stance_key(self, stance: Stance) -> Key:
        key = stance_key(stance)
        return (*key, stance.evidence_start, stance.evidence_end) if self.stance_evidence else key

    def _held_of(self, kind: str) -> dict[Key, int]:
        cached = self._held.get(kind)
        if cached is not None:
            return cached
        items: QuerySet[Any]
        key_of: Callable[[Any], Key]
        if kind == "mention":
            items, key_of = Mention.objects.filter(layer=self.layer), mention_key
        elif kind == "event":
            arguments = EventArgument.objects.select_related("mention")
            items = Event.objects.filter(layer=self.layer).prefetch_related(Prefetch("arguments", arguments))
            key_of = event_key
        else:
            items = Stance.objects.filter(layer=self.layer).select_related("holder", "target")
            key_of = self._stance_key
        held: dict[Key, int] = {}
        item: Any
        for item in items.order_by("pk"):
            held.setdefault(key_of(item), item.pk)  # the oldest of doubles the layer may hold
        self._held[kind] = held
        return held

    def _found(self, kind: str, key: Key, *, listed: bool) -> int | None:
        pk = self._held_of(kind).get(key)
        if pk is not None and listed:
            self.existing.append((kind, pk))
        return pk

    def _added(self, kind: str, key: Key, pk: int) -> int:
        self._held_of(kind)[key] = pk
        self.created.append((kind, pk))
        return pk

    def _provenance(self, key: Key) -> dict[str, Any] | None:
        return self.provenance(key) if self.provenance is not None else None

    # --- copies -------------------------------------------------------------------------------

    def _mention(self, source: Mention, *, listed: bool) -> int:
        key = mention_key(source)
        found = self._found("mention", key, listed=listed)
        if found is not None:
            return found
        created = mention_create(
            layer=self.layer,
            label=source.label,
            start=source.start,
            end=source.end,
            actor=source.actor if source.actor_id else None,
            provenance=self._provenance(key),
        )
        return self._added("mention", key, created.pk)

    def _event(self, source: Event) -> int:
        key = event_key(source)
        found = self._found("event", key, listed=True)
        if found is not None:
            return found
        arguments = [(a.role, self._mention(a.mention, listed=False)) for a in source.arguments.all()]
        created = event_create(
            layer=self.layer,
            event_type=source.event_type,
            trigger_start=source.trigger_start,
            trigger_end=source.trigger_end,
            mode=source.mode,
            realis=source.realis,
            contexts=list(source.contexts),
            arguments=arguments,
            not_stated=list(source.not_stated),
            provenance=self._provenance(key),
        )
        return self._added("event", key, created.pk)

    def _stance(self, source: Stance) -> int:
        key = self._stance_key(source)
        found = self._found("stance", key, listed=True)
        if found is not None:
            return found
        holder_id = self._mention(source.holder, listed=False) if source.holder is not None else None
        target_id = self._mention(source.target, listed=False) if source.target is not None else None
        created = stance_create(
            layer=self.layer,
            label=source.label,
            holder_id=holder_id,
            target_id=target_id,
            target_actor=source.target_actor if source.target_actor_id else None,
            scope=source.scope,
            evidence_start=source.evidence_start,
            evidence_end=source.evidence_end,
            provenance=self._provenance(key),
        )
        return self._added("stance", key, created.pk)
