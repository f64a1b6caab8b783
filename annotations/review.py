"""Review and adjudication: compare the annotators' layers of an article, settle its gold layer.

Groups. The annotators' items on an article are grouped by what they say, so one group is one
version of an item with the annotators who gave it:
- a mention by (start, end, label);
- an event by (type, trigger span, its arguments as (role, span, label) — a multiset, and the
  roles it marks not stated in the text);
- a stance by (holder span or the author, target span or actor, label).
A group's `agreement` is unanimous when every compared annotator gave it, majority when more
than half did, else minority. Its `disagreements` say why a reviewer should look at it:
- mentions: `label` (another group has the same span with another label), `boundary` (another
  group has the same label on an overlapping, different span), `missing` (not everyone gave it);
- events: `type` (same trigger, another type), `arguments` (same trigger and type, other
  arguments), `missing`;
- stances: `label` (same holder and target, another label), `missing`.

Compared layers: the annotator layers in progress or done (not-started ones say nothing).

Gold. The gold layer is created when a reviewer first opens the article, pre-filled by the
project's merge strategy (unanimous by default; majority; none). Picking copies an annotator's
item into the gold layer — an event with its argument mentions, a stance with its holder and
target mentions, reusing gold mentions with the same span and label — and records its
provenance: how it got there (`picked`, `unanimous`, `majority`; `manual` for gold items written
directly; `accepted` for machine suggestions accepted into gold, with their model version), the
annotators who gave that version, the reviewer, and when. A merge picks every
unanimous (or majority) group not yet in gold. Every write names the gold layer version it read:
two reviewers settling the same article can't both win; the second gets VersionConflict (409)
and nothing of the first is lost.

Stages of an article: unassigned (no annotator layer), assigned, annotated (at least `overlap`
annotator layers done), adjudicated (the gold layer is adjudicated).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from annotations.models import Event, Layer, Mention, Stance

COMPARED_STATUSES = (Layer.Status.IN_PROGRESS, Layer.Status.DONE)
KINDS = ("mention", "event", "stance")


class Strategy:
    UNANIMOUS = "unanimous"
    MAJORITY = "majority"
    NONE = "none"
    PICKED = "picked"
    MANUAL = "manual"
    ACCEPTED = "accepted"
    PROMOTED = "promoted"


MERGE_STRATEGIES = (Strategy.UNANIMOUS, Strategy.MAJORITY, Strategy.NONE)


# --- Keys: what makes two items the same version (a copy into gold finds the same) ---------


Key = tuple[Hashable, ...]


def _span(mention: Mention | None) -> tuple[int, int] | None:
    return None if mention is None else (mention.start, mention.end)


def mention_key(mention: Mention) -> Key:
    return ("mention", mention.start, mention.end, mention.label)


def event_key(event: Event) -> Key:
    arguments = sorted((a.role, a.mention.start, a.mention.end, a.mention.label) for a in event.arguments.all())
    return (
        "event",
        event.event_type,
        event.trigger_start,
        event.trigger_end,
        tuple(arguments),
        tuple(sorted(event.not_stated)),
    )


def stance_key(stance: Stance) -> Key:
    target = _span(stance.target) if stance.target_id else ("actor", stance.target_actor_id)
    return ("stance", _span(stance.holder) if stance.holder_id else None, target, stance.label)


def _key_text(key: tuple[Hashable, ...]) -> str:
    return repr(key)


def annotator_name(layer: Layer) -> str:
    """The username of an annotator layer's annotator ("" for gold and machine layers)."""
    return layer.annotator.get_username() if layer.annotator is not None else ""


def _items(layer: Layer, kind: str) -> Iterable[Any]:
    managers: dict[str, Any] = {"mention": layer.mentions, "event": layer.events, "stance": layer.stances}
    return managers[kind].all()


KEY_OF: dict[str, Callable[[Any], Key]] = {"mention": mention_key, "event": event_key, "stance": stance_key}


@dataclass
class Group:
    kind: str
    key: tuple[Hashable, ...]
    item: Any  # the first annotator's item of this version: what a pick copies
    items: dict[str, int] = field(default_factory=dict)  # username → item id
    gold: int | None = None
    disagreements: list[str] = field(default_factory=list)

    @property
    def annotators(self) -> list[str]:
        return list(self.items)


def agreement_of(support: int, of: int) -> str:
    if support >= of:
        return Strategy.UNANIMOUS
    return Strategy.MAJORITY if 2 * support > of else "minority"


def groups_of(layers: Sequence[Layer], gold: Layer | None = None) -> dict[str, list[Group]]:
    """The annotators' items by kind, one group per version, in text order, with disagreements."""
    result: dict[str, list[Group]] = {}
    for kind in KINDS:
        key_of = KEY_OF[kind]
        groups: dict[tuple[Hashable, ...], Group] = {}
        for layer in layers:
            name = annotator_name(layer)
            for item in _items(layer, kind):
                key = key_of(item)
                group = groups.setdefault(key, Group(kind=kind, key=key, item=item))
                group.items.setdefault(name, item.pk)
        if gold is not None:
            in_gold = {key_of(item): item.pk for item in _items(gold, kind)}
            for group in groups.values():
                group.gold = in_gold.get(group.key)
        ordered = sorted(groups.values(), key=_position)
        _mark_disagreements(kind, ordered, len(layers))
        result[kind] = ordered
    return result


def _position(group: Group) -> tuple[Any, ...]:
    item = group.item
    if group.kind == "mention":
        return (item.start, item.end, item.label)
    if group.kind == "event":
        return (item.trigger_start, item.trigger_end, item.event_type, _key_text(group.key))
    evidence = item.evidence_start if item.evidence_start is not None else -1
    return (evidence, _key_text(group.key))


def _mark_disagreements(kind: str, groups: list[Group], of: int) -> None:
    if kind == "mention":
        by_span: dict[tuple[int, int], set[str]] = defaultdict(set)
        for g in groups:
            by_span[(g.item.start, g.item.end)].add(g.item.label)
        # Groups of one label have distinct spans: any two that overlap differ in their boundaries.
        overlapping: set[int] = set()
        by_label: dict[str, list[Group]] = defaultdict(list)
        for g in groups:  # already in text order
            by_label[g.item.label].append(g)
        for same in by_label.values():
            for i, g in enumerate(same):
                for o in same[i + 1 :]:
                    if o.item.start >= g.item.end:
                        break
                    overlapping.update((id(g), id(o)))
        for g in groups:
            if len(by_span[(g.item.start, g.item.end)]) > 1:
                g.disagreements.append("label")
            if id(g) in overlapping:
                g.disagreements.append("boundary")
    elif kind == "event":
        by_trigger: dict[tuple[int, int], Counter[str]] = defaultdict(Counter)
        for g in groups:
            by_trigger[(g.item.trigger_start, g.item.trigger_end)][g.item.event_type] += 1
        for g in groups:
            types = by_trigger[(g.item.trigger_start, g.item.trigger_end)]
            if len(types) > 1:
                g.disagreements.append("type")
            if types[g.item.event_type] > 1:
                g.disagreements.append("arguments")
    else:
        by_pair: dict[tuple[Hashable, ...], set[str]] = defaultdict(set)
        for g in groups:
            by_pair[g.key[1:3]].add(g.item.label)
        for g in groups:
            if len(by_pair[g.key[1:3]]) > 1:
                g.disagreements.append("label")
    for g in groups:
        if len(g.items) < of:
            g.disagreements.append("missing")


def mention_json(mention: Mention | None) -> dict[str, Any] | None:
    if mention is None:
        return None
    return {"start": mention.start, "end": mention.end, "text": mention.text, "label": mention.label}


def group_json(group: Group, of: int) -> dict[str, Any]:
    item = group.item
    body: dict[str, Any] = {"key": _key_text(group.key)}
    if group.kind == "mention":
        body.update(start=item.start, end=item.end, text=item.text, label=item.label)
    elif group.kind == "event":
        body.update(
            event_type=item.event_type,
            trigger_start=item.trigger_start,
            trigger_end=item.trigger_end,
            trigger_text=item.trigger_text,
            mode=item.mode,
            realis=item.realis,
            not_stated=list(item.not_stated),
            arguments=[
                {"role": a.role, **(mention_json(a.mention) or {})}
                for a in sorted(item.arguments.all(), key=lambda a: (a.role, a.mention.start, a.mention.end))
            ],
        )
    else:
        body.update(
            label=item.label,
            holder=mention_json(item.holder),
            target=mention_json(item.target),
            target_actor={"id": item.target_actor.pk, "name": item.target_actor.name} if item.target_actor else None,
            scope=item.scope,
            evidence_start=item.evidence_start,
            evidence_end=item.evidence_end,
            evidence_text=item.evidence_text,
        )
    support = len(group.items)
    body.update(
        annotators=group.annotators,
        items=group.items,
        support=support,
        of=of,
        agreement=agreement_of(support, of),
        disagreements=group.disagreements,
        gold=group.gold,
    )
    return body


def gold_json(gold: Layer | None) -> dict[str, Any] | None:
    if gold is None:
        return None
    return {
        "id": gold.pk,
        "version": gold.version,
        "status": gold.status,
        "adjudicated_by": gold.adjudicated_by.get_username() if gold.adjudicated_by else None,
        "adjudicated_at": gold.adjudicated_at.isoformat() if gold.adjudicated_at else None,
    }


def provenance(
    strategy: str,
    *,
    reviewer: AbstractBaseUser | None,
    annotators: Sequence[str] = (),
    model_version: str = "",
    at: str | None = None,
) -> dict[str, Any]:
    """What a gold item records about how it got there; `at` defaults to now.

    The items of one pick or merge share its time, so a layer holds few distinct records (the
    export reads each distinct one once).
    """
    record: dict[str, Any] = {"strategy": strategy}
    if annotators:
        record["annotators"] = list(annotators)
    if model_version:
        record["model_version"] = model_version
    record["reviewer"] = reviewer.get_username() if reviewer is not None else None
    record["at"] = at or timezone.now().isoformat()
    return record
