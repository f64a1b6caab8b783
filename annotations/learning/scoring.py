"""Suggestion quality: pure scoring of machine suggestions against an adjudicated gold layer.

Plain data only (no Django, no spaCy): `gold_document` reads one row of the native JSONL export,
`predicted_document` reads a `DocumentSuggestions` (by attribute), and `score_documents` compares
lists of both. Every count is micro-averaged over the whole corpus.

Matching rules (what `bench/score_suggestions.py` and `annotations.learning.evaluate` report):
- mentions: label and exact character offsets;
- events: same type and overlapping trigger spans, one-to-one (each gold event takes the unmatched
  predicted event whose trigger overlaps it most);
- arguments: same role and overlapping mention spans, counted as true positives only inside matched
  events; the arguments of an unmatched gold event are all false negatives, those of an unmatched
  predicted event all false positives;
- stance: same label, holder (both the author, or overlapping mentions) and target (overlapping
  mentions, or the same registry actor when the gold target is an actor).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Span = tuple[int, int]


@dataclass(frozen=True)
class Mention:
    label: str
    start: int
    end: int
    actor: str | None = None


@dataclass(frozen=True)
class Argument:
    role: str
    span: Span


@dataclass(frozen=True)
class Event:
    type: str
    trigger: Span
    arguments: tuple[Argument, ...] = ()


@dataclass(frozen=True)
class Stance:
    label: str
    holder: Span | None  # None: the article's author / outlet
    target: Span | None
    target_actor: str | None = None


@dataclass(frozen=True)
class Document:
    mentions: tuple[Mention, ...] = ()
    events: tuple[Event, ...] = ()
    stances: tuple[Stance, ...] = ()


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, other: Counts) -> None:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Scores:
    mentions: Counts = field(default_factory=Counts)
    triggers: Counts = field(default_factory=Counts)
    triggers_by_type: dict[str, Counts] = field(default_factory=dict)
    arguments: Counts = field(default_factory=Counts)
    arguments_by_role: dict[str, Counts] = field(default_factory=dict)
    stances: Counts = field(default_factory=Counts)
    predicted_events: int = 0
    events_lacking_required_role: int = 0

    @property
    def stance_matched_share(self) -> float:
        """Share of the gold stance items that a suggestion matched (= stance recall)."""
        return self.stances.recall

    @property
    def lacking_required_role_share(self) -> float:
        return self.events_lacking_required_role / self.predicted_events if self.predicted_events else 0.0


# --- reading ---------------------------------------------------------------------------------


def gold_document(row: Mapping[str, Any]) -> Document:
    """One article of the native JSONL (mentions, events with arguments, stances) as plain spans."""
    by_id = {m["id"]: (m["start"], m["end"]) for m in row.get("mentions", [])}
    actors = {m["id"]: m.get("actor") for m in row.get("mentions", [])}
    mentions = tuple(
        Mention(m["label"], m["start"], m["end"], actors.get(m["id"]) or None) for m in row.get("mentions", [])
    )
    events = tuple(
        Event(
            type=e["type"],
            trigger=(e["trigger"]["start"], e["trigger"]["end"]),
            arguments=tuple(Argument(a["role"], by_id[a["mention"]]) for a in e.get("arguments", [])),
        )
        for e in row.get("events", [])
    )
    stances = tuple(
        Stance(
            label=s["label"],
            holder=by_id[s["holder"]] if s.get("holder") else None,
            target=by_id[s["target"]] if s.get("target") else None,
            target_actor=s.get("target_actor") or None,
        )
        for s in row.get("stances", [])
    )
    return Document(mentions, events, stances)


def predicted_document(suggestions: Any) -> Document:
    """A `DocumentSuggestions` (mentions, events, stances indexing its mentions) as plain spans."""
    ms = suggestions.mentions
    mentions = tuple(Mention(m.label, m.start, m.end, m.actor_name) for m in ms)
    events = tuple(
        Event(
            type=e.event_type,
            trigger=(e.trigger_start, e.trigger_end),
            arguments=tuple(Argument(a.role, (ms[a.mention].start, ms[a.mention].end)) for a in e.arguments),
        )
        for e in suggestions.events
    )
    stances = tuple(
        Stance(
            label=s.label,
            holder=None if s.holder is None else (ms[s.holder].start, ms[s.holder].end),
            target=(ms[s.target].start, ms[s.target].end),
            target_actor=ms[s.target].actor_name,
        )
        for s in suggestions.stances
    )
    return Document(mentions, events, stances)


def required_roles(schema: Mapping[str, Any]) -> dict[str, dict[str, int]]:
    """Event type → {role: min} for the roles a schema requires (min ≥ 1)."""
    return {
        t["code"]: {r["name"]: int(r.get("min", 0)) for r in t.get("roles", []) if int(r.get("min", 0)) >= 1}
        for t in schema.get("event_types", [])
    }


# --- matching --------------------------------------------------------------------------------


def overlap(a: Span | None, b: Span | None) -> int:
    """Characters two spans share (0 when either is missing or they are disjoint)."""
    if a is None or b is None:
        return 0
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def _match(gold: Sequence[Any], predicted: Sequence[Any], same, amount) -> list[tuple[int, int]]:
    """One-to-one pairs (gold index, predicted index): each gold item, in order, takes the unmatched
    predicted item that `same` accepts with the largest `amount` (ties: the earliest)."""
    taken: set[int] = set()
    pairs: list[tuple[int, int]] = []
    for gi, g in enumerate(gold):
        best, best_amount = None, 0
        for pi, p in enumerate(predicted):
            if pi in taken or not same(g, p):
                continue
            value = amount(g, p)
            if value > best_amount:
                best, best_amount = pi, value
        if best is not None:
            taken.add(best)
            pairs.append((gi, best))
    return pairs


def score_mentions(gold: Iterable[Mention], predicted: Iterable[Mention]) -> Counts:
    g = Counter((m.label, m.start, m.end) for m in gold)
    p = Counter((m.label, m.start, m.end) for m in predicted)
    tp = sum((g & p).values())
    return Counts(tp=tp, fp=sum(p.values()) - tp, fn=sum(g.values()) - tp)


def match_events(gold: Sequence[Event], predicted: Sequence[Event]) -> list[tuple[int, int]]:
    return _match(gold, predicted, lambda g, p: g.type == p.type, lambda g, p: overlap(g.trigger, p.trigger))


def match_arguments(gold: Sequence[Argument], predicted: Sequence[Argument]) -> list[tuple[int, int]]:
    return _match(gold, predicted, lambda g, p: g.role == p.role, lambda g, p: overlap(g.span, p.span))


def _stance_fit(g: Stance, p: Stance) -> int:
    if g.label != p.label:
        return 0
    if g.holder is None or p.holder is None:
        holder = 1 if g.holder is None and p.holder is None else 0
    else:
        holder = overlap(g.holder, p.holder)
    if g.target is not None:
        target = overlap(g.target, p.target)
    else:
        target = 1 if g.target_actor is not None and g.target_actor == p.target_actor else 0
    return holder + target if holder and target else 0


def match_stances(gold: Sequence[Stance], predicted: Sequence[Stance]) -> list[tuple[int, int]]:
    return _match(gold, predicted, lambda g, p: _stance_fit(g, p) > 0, _stance_fit)


def lacks_required_role(event: Event, required: Mapping[str, Mapping[str, int]]) -> bool:
    roles = Counter(a.role for a in event.arguments)
    return any(roles[role] < minimum for role, minimum in required.get(event.type, {}).items())


# --- scoring ---------------------------------------------------------------------------------


def score_document(
    gold: Document, predicted: Document, scores: Scores, required: Mapping[str, Mapping[str, int]]
) -> None:
    """Add one article's counts to `scores`."""
    scores.mentions.add(score_mentions(gold.mentions, predicted.mentions))

    pairs = match_events(gold.events, predicted.events)
    matched_gold = {g for g, _ in pairs}
    matched_pred = {p for _, p in pairs}

    def by_type(event_type: str) -> Counts:
        return scores.triggers_by_type.setdefault(event_type, Counts())

    def by_role(role: str) -> Counts:
        return scores.arguments_by_role.setdefault(role, Counts())

    for gi, pi in pairs:
        scores.triggers.tp += 1
        by_type(gold.events[gi].type).tp += 1
        g_args, p_args = gold.events[gi].arguments, predicted.events[pi].arguments
        arg_pairs = match_arguments(g_args, p_args)
        hit_g = {g for g, _ in arg_pairs}
        hit_p = {p for _, p in arg_pairs}
        for i, arg in enumerate(g_args):
            counts = Counts(tp=1) if i in hit_g else Counts(fn=1)
            scores.arguments.add(counts)
            by_role(arg.role).add(counts)
        for i, arg in enumerate(p_args):
            if i not in hit_p:
                scores.arguments.fp += 1
                by_role(arg.role).fp += 1
    for gi, event in enumerate(gold.events):
        if gi not in matched_gold:
            scores.triggers.fn += 1
            by_type(event.type).fn += 1
            for arg in event.arguments:
                scores.arguments.fn += 1
                by_role(arg.role).fn += 1
    for pi, event in enumerate(predicted.events):
        scores.predicted_events += 1
        if lacks_required_role(event, required):
            scores.events_lacking_required_role += 1
        if pi not in matched_pred:
            scores.triggers.fp += 1
            by_type(event.type).fp += 1
            for arg in event.arguments:
                scores.arguments.fp += 1
                by_role(arg.role).fp += 1

    stance_pairs = match_stances(gold.stances, predicted.stances)
    scores.stances.add(
        Counts(
            tp=len(stance_pairs),
            fp=len(predicted.stances) - len(stance_pairs),
            fn=len(gold.stances) - len(stance_pairs),
        )
    )


def score_documents(
    pairs: Iterable[tuple[Document, Document]], required: Mapping[str, Mapping[str, int]] | None = None
) -> Scores:
    """Micro-averaged scores over (gold, predicted) pairs of documents."""
    scores = Scores()
    for gold, predicted in pairs:
        score_document(gold, predicted, scores, required or {})
    return scores
