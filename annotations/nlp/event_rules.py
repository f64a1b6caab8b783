"""Event rules compiled from the patterns file (seeds/event_patterns.json, seeds/PATTERNS.md): the trigger
tests a candidate token must pass, the realis cues, and the per-document index of context cue words."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from spacy.tokens import Token

from annotations.nlp import syntax

DEFAULT_OBJECT_DEPS = ("dobj", "nsubjpass")
MODIFIER_DEPS = frozenset({"compound", "amod"})
CLAUSE_DEPS = frozenset({"ccomp", "xcomp", "advcl", "relcl", "acl", "conj", "csubj", "parataxis", "nsubj", "nsubjpass"})


def _with_capitals(words: Sequence[str]) -> frozenset[str]:
    """Proper-noun lemmas keep their case ("Mission", "Visit" in a headline): match both spellings."""
    return frozenset(words) | {w[:1].upper() + w[1:] for w in words}


@dataclass(frozen=True)
class ChildTest:
    """The trigger must have a child with one of `deps` (any when empty) and one of the words (if given)."""

    deps: frozenset[str]
    lemmas: frozenset[str] = frozenset()
    lowers: frozenset[str] = frozenset()

    def passes(self, trigger: Token) -> bool:
        for child in trigger.children:
            if self.deps and child.dep_ not in self.deps:
                continue
            if self.lemmas and child.lemma_ not in self.lemmas:
                continue
            if self.lowers and child.lower_ not in self.lowers:
                continue
            return True
        return False


@dataclass(frozen=True)
class PrepObjectTest:
    """ "strengthening of cooperation": a prep child (one of `preps`) whose object has one of the lemmas."""

    preps: frozenset[str]
    lemmas: frozenset[str]

    def passes(self, trigger: Token) -> bool:
        return any(
            child.dep_ == "prep"
            and child.lower_ in self.preps
            and any(g.dep_ == "pobj" and g.lemma_ in self.lemmas for g in child.children)
            for child in trigger.children
        )


@dataclass(frozen=True)
class GovernorTest:
    """ "provide support", "expressed solidarity": the nominal trigger is the object of one of these verbs."""

    lemmas: frozenset[str]

    def passes(self, trigger: Token) -> bool:
        governor = syntax.governing_verb(trigger)
        return governor is not None and governor.lemma_ in self.lemmas


@dataclass(frozen=True)
class EventRule:
    id: str
    event_type: str
    lemmas: frozenset[str]
    pos: frozenset[str]
    tests: tuple[ChildTest | PrepObjectTest | GovernorTest, ...]
    mode: str
    mode_cues: dict[str, frozenset[str]]
    mode_from_context: dict[str, str]
    subject_roles: tuple[str, ...]  # the subject takes the first that fits: "the ambassador will return"
    object_roles: tuple[str, ...]
    prep_roles: dict[str, tuple[str, ...]]
    modifier_role: str
    noun_of_roles: tuple[str, ...]
    score: float
    pattern: list[dict[str, Any]] | None = field(default=None, hash=False, compare=False)
    keeps_object_event: bool = False  # "signer un accord": the verb's event absorbs its object's

    def matches(self, trigger: Token) -> bool:
        return trigger.pos_ in self.pos and all(test.passes(trigger) for test in self.tests)


def _as_tuple(value: str | Sequence[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def compile_rule(raw: dict[str, Any], defaults: dict[str, Any], default_score: float) -> EventRule:
    """One rule of the patterns file: trigger lemmas + parts of speech + child tests, or a raw
    DependencyMatcher `pattern` whose first node is RIGHT_ID "trigger"; plus how roles are filled."""
    rule_id = raw.get("id") or f"{raw.get('event_type')}-{'-'.join(raw.get('lemma', []))[:40]}"
    if not raw.get("event_type"):
        raise ValueError(f"event rule {rule_id!r}: needs 'event_type'")
    tests: list[ChildTest | PrepObjectTest | GovernorTest] = []
    pattern = raw.get("pattern")
    if pattern is not None:
        if not pattern or pattern[0].get("RIGHT_ID") != "trigger":
            raise ValueError(f"event rule {rule_id!r}: a raw pattern must start with the node RIGHT_ID 'trigger'")
    elif not raw.get("lemma"):
        raise ValueError(f"event rule {rule_id!r}: needs 'lemma' (or a raw 'pattern')")
    if "object" in raw:
        obj = raw["object"]
        tests.append(ChildTest(frozenset(obj.get("dep", DEFAULT_OBJECT_DEPS)), lemmas=_with_capitals(obj["lemma"])))
    if "child" in raw:
        child = raw["child"]
        tests.append(
            ChildTest(
                frozenset(child.get("dep", ())),
                lemmas=_with_capitals(child["lemma"]) if "lemma" in child else frozenset(),
                lowers=frozenset(child.get("lower", ())),
            )
        )
    if "prep_object" in raw:
        spec = raw["prep_object"]
        tests.append(PrepObjectTest(frozenset(spec["prep"]), _with_capitals(spec["lemma"])))
    if "governor" in raw:
        tests.append(GovernorTest(frozenset(raw["governor"]["lemma"])))
    pos = frozenset(raw.get("pos", ["VERB"]))
    if "NOUN" in pos:
        pos |= {"PROPN"}  # headlines capitalise nouns: "Niger Coup: …", "Announce their Withdrawal"
    prep_roles = {k: tuple(v) for k, v in defaults.get("prep", {}).items()}
    prep_roles.update({k: tuple(v) for k, v in raw.get("prep_roles", {}).items()})
    return EventRule(
        id=rule_id,
        event_type=raw["event_type"],
        lemmas=_with_capitals(raw.get("lemma", [])),
        pos=pos,
        tests=tuple(tests),
        mode=raw.get("mode", ""),
        mode_cues={mode: _with_capitals(words) for mode, words in raw.get("mode_cues", {}).items()},
        mode_from_context=dict(raw.get("mode_from_context", {})),
        subject_roles=_as_tuple(raw.get("subject_role", defaults.get("subject", "actor"))),
        object_roles=tuple(raw.get("object_roles", defaults.get("object", ["recipient"]))),
        prep_roles=prep_roles,
        modifier_role=raw.get("modifier_role", defaults.get("modifier", "actor")),
        noun_of_roles=tuple(raw.get("noun_of_roles", [])),
        score=float(raw.get("score", default_score)),
        pattern=pattern,
        keeps_object_event=bool(raw.get("keeps_object_event", False)),
    )


@dataclass
class RealisCues:
    future_aux: frozenset[str]
    hypothetical_aux: frozenset[str]
    hypothetical_marks: frozenset[str]
    future_governors: frozenset[str]
    negating_governors: frozenset[str]
    question_is_hypothetical: bool

    @classmethod
    def from_patterns(cls, raw: dict[str, Any]) -> RealisCues:
        return cls(
            future_aux=frozenset(raw.get("future_aux", [])),
            hypothetical_aux=frozenset(raw.get("hypothetical_aux", [])),
            hypothetical_marks=frozenset(raw.get("hypothetical_marks", [])),
            future_governors=frozenset(raw.get("future_governors", [])),
            negating_governors=frozenset(raw.get("negating_governors", [])),
            question_is_hypothetical=bool(raw.get("question_is_hypothetical", True)),
        )

    def realis(self, trigger: Token, question: bool) -> str:
        """negated > hypothetical > future > actual, from the trigger's (and its governor's) auxiliaries."""
        inspected = [trigger]
        current = trigger
        for _ in range(2):
            if current.dep_ in ("xcomp", "conj", "pcomp", "advcl") and current.head.i != current.i:
                head = current.head.head if current.dep_ == "pcomp" else current.head
                if current.dep_ == "xcomp" and head.lemma_ in self.negating_governors:
                    return "negated"
                inspected.append(head)
                current = head
            elif current.pos_ in ("NOUN", "PROPN"):
                governor = syntax.governing_verb(current)
                if governor is None:
                    break
                inspected.append(governor)
                current = governor
            else:
                break
        future = hypothetical = False
        for token in inspected:
            for child in token.children:
                if child.dep_ == "neg":
                    return "negated"
                if child.dep_ in ("aux", "auxpass"):
                    if child.lower_ in self.hypothetical_aux:
                        hypothetical = True
                    elif child.lower_ in self.future_aux:
                        future = True
                elif child.dep_ == "mark" and child.lower_ in self.hypothetical_marks:
                    hypothetical = True
        if trigger.dep_ == "xcomp" and trigger.head.lemma_ in self.future_governors:
            future = True
        if question:
            hypothetical = True
        if hypothetical:
            return "hypothetical"
        return "future" if future else "actual"


class CueIndex:
    """Positions of context cue words in one document (one vectorised look-up), counted per sentence."""

    def __init__(self, starts: list[int], names: list[str]):
        self.starts = starts
        self.names = names

    def names_between(self, start: int, end: int) -> set[str]:
        lo = bisect.bisect_left(self.starts, start)
        hi = bisect.bisect_left(self.starts, end)
        return set(self.names[lo:hi])
