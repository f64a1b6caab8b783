"""Training samples of the three classifiers, and how their output merges with the rules'.

The merge is one small policy per component with thresholds; `decide_*` picks the thresholds that give
the best F1 on out-of-fold predictions over the training stories (never the dev ones). A threshold of
1.01 means "never": the policy then is the rules alone, so a learned component that does not help on its
training data changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from annotations.learning.classifiers import NONE, best_thresholds
from annotations.learning.features import (
    AUTHOR,
    Features,
    Frame,
    argument_features,
    stance_features,
    trigger_candidates,
    trigger_features,
)

# A rejected suggestion counts this much more than an ordinary gold-absent candidate.
NEGATIVE_WEIGHT = 3.0


@dataclass
class Samples:
    features: list[Features] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    scored: list[bool] = field(default_factory=list)
    # per sample: what the policy needs (the rules' answer) and the gold answer, for out-of-fold scoring
    rule: list[Any] = field(default_factory=list)
    gold: list[Any] = field(default_factory=list)
    extra: list[Any] = field(default_factory=list)
    unreachable: int = 0  # gold items of the scored rows no candidate can give (missed mention or event)

    def add(
        self,
        frame: Frame,
        features: Features,
        label: str,
        weight: float,
        rule: Any,
        extra: Any = None,
        scored: bool = True,
    ) -> None:
        self.features.append(features)
        self.labels.append(label)
        self.weights.append(weight)
        self.groups.append(frame.key)
        self.scored.append(scored and frame.scored and frame.complete)
        self.rule.append(rule)
        self.gold.append(label)
        self.extra.append(extra)

    def positives(self) -> int:
        return sum(1 for label, weight in zip(self.labels, self.weights, strict=True) if label != NONE and weight)


class Schema:
    """The parts of the label schema the classifiers' output is checked against."""

    def __init__(self, document: Mapping[str, Any], retired: Mapping[str, Any] | None = None):
        retired = retired or {}
        gone_types = set(retired.get("triggers", ()))
        gone_roles = set(retired.get("arguments", ()))
        self.entity_codes = frozenset(e["code"] for e in document.get("entity_types", []))
        self.event_types = {t["code"] for t in document.get("event_types", [])} - gone_types
        self.roles: dict[str, dict[str, frozenset[str]]] = {
            t["code"]: {
                r["name"]: frozenset(r.get("entity_types", []))
                for r in t.get("roles", [])
                if r["name"] not in gone_roles
            }
            for t in document.get("event_types", [])
            if t["code"] in self.event_types
        }
        self.stance_labels = {s["code"] for s in document.get("stance_labels", [])} - set(retired.get("stance", ()))
        self.realis = tuple(document.get("realis", []))

    def valid_role(self, event_type: str, role: str, label: str) -> bool:
        allowed = self.roles.get(event_type, {}).get(role)
        return allowed is not None and (not allowed or label in allowed)


# --- triggers ------------------------------------------------------------------------------------


def trigger_samples(frames: Sequence[Frame]) -> Samples:
    samples = Samples()
    for frame in frames:
        gold = {trigger: event_type for trigger, event_type, _ in reversed(frame.events)}
        if frame.complete:
            for i in sorted(set(trigger_candidates(frame)) | set(gold)):
                if i not in frame.unknown:
                    samples.add(
                        frame,
                        trigger_features(frame, i),
                        gold.get(i, NONE),
                        frame.weight,
                        frame.rule_types.get(i, set()),
                    )
        for i, event_type in frame.negative_events:
            if gold.get(i) != event_type:
                samples.add(frame, trigger_features(frame, i), NONE, NEGATIVE_WEIGHT, frame.rule_types.get(i, set()))
    return samples


def merge_trigger(
    rule_types: set[str], p: Mapping[str, float], *, add: float, drop: float, allowed: set[str]
) -> list[tuple[str, float, bool]]:
    """The event types on one token: (type, score, learned?). Rule types stay unless the model is sure
    there is no event; the model's best type is added where no rule fires, or replaces a weaker rule type."""
    kept = [t for t in sorted(rule_types) if p.get(NONE, 0.0) < drop]
    choices = [(q, t) for t, q in p.items() if t != NONE and t in allowed]
    if not choices:
        return [(t, p.get(t, 0.0), False) for t in kept]
    best_p, best = max(choices)
    if best_p >= add and best not in rule_types and all(p.get(t, 0.0) < best_p for t in kept):
        return [(best, best_p, True)]
    return [(t, p.get(t, 0.0), False) for t in kept]


def decide_triggers(
    samples: Samples, oof: Sequence[dict[str, float] | None], allowed: set[str]
) -> tuple[dict[str, float], float]:
    scored = [k for k, p in enumerate(oof) if p is not None and samples.scored[k]]

    def score(add: float, drop: float) -> tuple[int, int, int]:
        tp = fp = fn = 0
        for k in scored:
            p = oof[k]
            assert p is not None
            predicted = {t for t, _, _ in merge_trigger(samples.rule[k], p, add=add, drop=drop, allowed=allowed)}
            gold = {samples.gold[k]} - {NONE}
            tp += len(predicted & gold)
            fp += len(predicted - gold)
            fn += len(gold - predicted)
        return tp, fp, fn

    return best_thresholds(score, ["add", "drop"])


# --- arguments -----------------------------------------------------------------------------------


def argument_pairs(frame: Frame, trigger: int) -> list[int]:
    return [
        m
        for m in frame.mentions_in(frame.sentence(trigger))
        if not frame.mentions[m][0] <= trigger < frame.mentions[m][1]
    ]


def argument_samples(frames: Sequence[Frame]) -> Samples:
    """Gold events × gold mentions (clean pairs), plus the rules' events × the rules' mentions as the
    Preannotator meets them in use; the merge is decided on the latter only."""
    samples = Samples()
    for frame in frames:
        for trigger, event_type, arguments in frame.events if frame.complete else []:
            roles = dict(arguments)
            for m in argument_pairs(frame, trigger):
                _pair(samples, frame, trigger, event_type, m, roles.get(m, NONE), frame.weight, scored=False)
        in_use = frame.in_use
        if in_use is not None and frame.scored:
            reached = 0
            for trigger, event_type, arguments in in_use.events:
                roles = dict(arguments)
                for m in argument_pairs(in_use, trigger):
                    reached += m in roles
                    _pair(samples, in_use, trigger, event_type, m, roles.get(m, NONE), frame.weight, scored=True)
            samples.unreachable += sum(len(a) for _, _, a in frame.events) - reached
        for trigger, event_type, span, role in frame.negative_args:
            gold = {(t, m, r) for t, _, args in frame.events for m, r in args}
            found = [m for m, (s, e, _) in enumerate(frame.mentions) if s < span[1] and span[0] < e]
            if not found:  # a row without gold: the rejected mention is known by its span only
                label = next((x.label_ for x in frame.doc.ents if x.start < span[1] and span[0] < x.end), "")
                frame.mentions.append((span[0], span[1], label))
                found = [len(frame.mentions) - 1]
            for m in found[:1]:
                if (trigger, m, role) not in gold:
                    _pair(samples, frame, trigger, event_type, m, NONE, NEGATIVE_WEIGHT, scored=False)
    return samples


def _pair(
    samples: Samples, frame: Frame, trigger: int, event_type: str, m: int, label: str, weight: float, *, scored: bool
) -> None:
    features = argument_features(frame, trigger, event_type, m)
    rule = frame.rule_role(trigger, frame.mentions[m][:2])
    event = (id(frame), trigger, event_type)
    samples.add(frame, features, label, weight, rule, (event_type, frame.mentions[m][2], event, m), scored=scored)


def merge_roles(
    pairs: Sequence[tuple[int, str, Mapping[str, float], Sequence[str]]], *, add: float, drop: float
) -> dict[int, tuple[str, float, bool]]:
    """The roles of one event's trigger–mention pairs (mention, the rules' role or "", probabilities, valid
    roles) → {mention: (role, score, learned?)}. A rule role stays unless the model is sure of none; the
    model fills a role the rules left empty, once per role, with its most probable mention."""
    decided: dict[int, tuple[str, float, bool]] = {}
    offers: list[tuple[float, str, int]] = []
    for m, rule_role, p, valid in pairs:
        if rule_role:
            if p.get(NONE, 0.0) < drop:
                decided[m] = (rule_role, p.get(rule_role, 0.0), False)
            continue
        choices = [(p.get(r, 0.0), r) for r in valid]
        if choices:
            best_p, best = max(choices)
            if best_p >= add and best_p > p.get(NONE, 0.0):
                offers.append((best_p, best, m))
    filled = {role for role, _, _ in decided.values()}
    for best_p, role, m in sorted(offers, reverse=True):
        if role not in filled:
            filled.add(role)
            decided[m] = (role, best_p, True)
    return decided


def decide_arguments(
    samples: Samples, oof: Sequence[dict[str, float] | None], schema: Schema
) -> tuple[dict[str, float], float]:
    events: dict[Any, list[tuple[int, str, dict[str, float], list[str], str]]] = {}
    for k, p in enumerate(oof):
        if p is None or not samples.scored[k]:
            continue
        event_type, label, event, m = samples.extra[k]
        valid = [r for r in schema.roles.get(event_type, {}) if schema.valid_role(event_type, r, label)]
        events.setdefault(event, []).append((m, samples.rule[k], p, valid, samples.gold[k]))

    def score(add: float, drop: float) -> tuple[int, int, int]:
        tp = fp = fn = 0
        for pairs in events.values():
            decided = merge_roles([pair[:4] for pair in pairs], add=add, drop=drop)
            for m, _, _, _, gold in pairs:
                role = decided.get(m, ("", 0.0, False))[0]
                tp += bool(role) and role == gold
                fp += bool(role) and role != gold
                fn += gold != NONE and role != gold
        return tp, fp, fn + samples.unreachable

    return best_thresholds(score, ["add", "drop"])


# --- stance --------------------------------------------------------------------------------------


def stance_pairs(frame: Frame, with_author: bool) -> Iterator[tuple[int, int]]:
    """Holder–target candidates: two mentions of one sentence (and the author with every mention)."""
    for k, start in enumerate(frame.sentence_starts):
        end = frame.sentence_starts[k + 1] if k + 1 < len(frame.sentence_starts) else len(frame.doc)
        inside = frame.mentions_in((start, end))
        for target in inside:
            if with_author:
                yield AUTHOR, target
            for holder in inside:
                if holder != target:
                    yield holder, target


def stance_samples(frames: Sequence[Frame], with_author: bool) -> Samples:
    samples = Samples()
    for frame in frames:
        if not frame.complete:
            continue
        gold = {(h, t): label for h, t, label in frame.stances}
        for holder, target in stance_pairs(frame, with_author):
            holder_span = None if holder == AUTHOR else frame.mentions[holder][:2]
            rule = frame.rule_stance(holder_span, frame.mentions[target][:2])
            samples.add(
                frame, stance_features(frame, holder, target), gold.get((holder, target), NONE), frame.weight, rule
            )
    return samples


def merge_stance(rule_label: str, p: Mapping[str, float], *, add: float, allowed: set[str]) -> tuple[str, float]:
    """A learned stance is added only where the rules hold none on the pair."""
    if rule_label:
        return "", 0.0
    choices = [(q, label) for label, q in p.items() if label != NONE and label in allowed]
    if not choices:
        return "", 0.0
    best_p, best = max(choices)
    return (best, best_p) if best_p >= add else ("", 0.0)


def decide_stance(
    samples: Samples, oof: Sequence[dict[str, float] | None], allowed: set[str]
) -> tuple[dict[str, float], float]:
    scored = [k for k, p in enumerate(oof) if p is not None and samples.scored[k]]

    def score(add: float) -> tuple[int, int, int]:
        tp = fp = fn = 0
        for k in scored:
            p = oof[k]
            assert p is not None
            learned, _ = merge_stance(samples.rule[k], p, add=add, allowed=allowed)
            label = samples.rule[k] or learned
            gold = samples.gold[k]
            tp += bool(label) and label == gold
            fp += bool(label) and label != gold
            fn += gold != NONE and label != gold
        return tp, fp, fn

    return best_thresholds(score, ["add"])
