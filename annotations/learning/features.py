"""One parsed article as the classifiers see it (a `Frame`), and the sparse features of their candidates.

The same functions build the features at training time (gold rows parsed by the base model, the rules'
output alongside) and inside the Preannotator (its parsed doc, mention index and rule events), so a
feature can never mean one thing in training and another in use.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from spacy.tokens import Doc, Token

TokenSpan = tuple[int, int]  # token start, token end (exclusive)
Features = dict[str, Any]

# Tokens that may be an event trigger (gold triggers are verbs and nouns, a few adjectives and names).
TRIGGER_POS = frozenset({"VERB", "NOUN", "ADJ", "PROPN"})
AUTHOR = -1  # the holder index of a stance held by the article's author
MAX_PATH = 5


@dataclass
class Frame:
    """A parsed article: mentions as token spans, gold (when known) and the rules' output by token."""

    doc: Doc
    key: str = ""
    mentions: list[tuple[int, int, str]] = field(default_factory=list)  # token start, end, label
    # gold: trigger token, event type, [(mention index, role)]
    events: list[tuple[int, str, list[tuple[int, str]]]] = field(default_factory=list)
    stances: list[tuple[int, int, str]] = field(default_factory=list)  # holder (AUTHOR) / target mention, label
    rule_types: dict[int, set[str]] = field(default_factory=dict)  # trigger token → event types the rules gave
    rule_info: dict[int, list[str]] = field(default_factory=dict)  # trigger token → what the rule found there
    rule_args: list[tuple[int, int, int, str]] = field(default_factory=list)  # trigger token, mention span, role
    rule_stances: list[tuple[TokenSpan | None, TokenSpan, str]] = field(default_factory=list)
    complete: bool = True  # every gold-absent candidate is a negative
    # rejected suggestions: (token, type); (trigger token, type, mention span, role)
    negative_events: list[tuple[int, str]] = field(default_factory=list)
    negative_args: list[tuple[int, str, TokenSpan, str]] = field(default_factory=list)
    unknown: set[int] = field(default_factory=set)  # tokens that are neither trigger nor negative (PLOVER)
    sentence_starts: list[int] = field(default_factory=list)
    weight: float = 1.0
    scored: bool = True  # part of the out-of-fold measurements that decide the merge (not PLOVER)
    in_use: Frame | None = None  # the same article with the rules' mentions and events (corpus.rule_frame)

    def __post_init__(self) -> None:
        if not self.sentence_starts:
            self.sentence_starts = [s.start for s in self.doc.sents] if len(self.doc) else [0]

    def sentence(self, i: int) -> TokenSpan:
        k = bisect.bisect_right(self.sentence_starts, i) - 1
        end = self.sentence_starts[k + 1] if k + 1 < len(self.sentence_starts) else len(self.doc)
        return self.sentence_starts[max(k, 0)], end

    def mentions_in(self, span: TokenSpan) -> list[int]:
        return [m for m, (s, e, _) in enumerate(self.mentions) if s >= span[0] and e <= span[1]]

    def mention_head(self, m: int) -> Token:
        s, e, _ = self.mentions[m]
        return self.doc[s:e].root

    def label_at(self, i: int) -> str:
        for s, e, label in self.mentions:
            if s <= i < e:
                return label
        return ""

    def rule_role(self, trigger: int, span: TokenSpan) -> str:
        for t, s, e, role in self.rule_args:
            if t == trigger and s < span[1] and span[0] < e:
                return role
        return ""

    def rule_stance(self, holder: TokenSpan | None, target: TokenSpan) -> str:
        for h, t, label in self.rule_stances:
            same_holder = (h is None and holder is None) or (h and holder and h[0] < holder[1] and holder[0] < h[1])
            if same_holder and t[0] < target[1] and target[0] < t[1]:
                return label
        return ""


def token_index(doc: Doc) -> list[int]:
    return [t.idx for t in doc]


def token_span(starts: list[int], doc: Doc, start: int, end: int) -> TokenSpan:
    """The tokens covering characters [start, end)."""
    first = max(bisect.bisect_right(starts, start) - 1, 0)
    last = max(bisect.bisect_left(starts, end) - 1, first)
    return first, min(last + 1, len(doc))


def trigger_token(doc: Doc, span: TokenSpan) -> int:
    return doc[span[0] : span[1]].root.i


def is_candidate(token: Token) -> bool:
    return token.pos_ in TRIGGER_POS and not token.is_space and not token.is_punct and len(token.text) > 1


def trigger_candidates(frame: Frame) -> list[int]:
    return [t.i for t in frame.doc if is_candidate(t)]


def trigger_features(frame: Frame, i: int) -> Features:
    doc = frame.doc
    token = doc[i]
    lemma = token.lemma_.lower()
    f: Features = {
        "lemma=" + lemma: 1,
        "pos=" + token.pos_: 1,
        "tag=" + token.tag_: 1,
        "dep=" + token.dep_: 1,
        "lemma_pos=" + lemma + "_" + token.pos_: 1,
        "suffix=" + token.lower_[-3:]: 1,
        "head=" + token.head.lemma_.lower(): 1,
        "head_pos=" + token.head.pos_: 1,
        "in_mention=" + frame.label_at(i): 1,
    }
    rule = frame.rule_types.get(i, set())
    for event_type in rule:
        f["rule=" + event_type] = 1
        f["rule_lemma=" + event_type + "_" + lemma] = 1
    if not rule:
        f["rule=none"] = 1
    else:
        f["rule_any"] = 1
        f["rule_any_dep=" + token.dep_] = 1
        f["rule_any_pos=" + token.pos_] = 1
        for info in frame.rule_info.get(i, ()):
            f["rule_" + info] = 1
    for child in token.children:
        f["child_dep=" + child.dep_] = 1
        if child.dep_ in ("dobj", "pobj", "prep", "xcomp", "neg", "aux", "auxpass", "prt"):
            f["child=" + child.dep_ + "_" + child.lemma_.lower()] = 1
        label = frame.label_at(child.i)
        if label:
            f["child_label=" + child.dep_ + "_" + label] = 1
    for offset in (-2, -1, 1, 2):
        j = i + offset
        if 0 <= j < len(doc):
            f[f"w{offset}=" + doc[j].lemma_.lower()] = 1
    return f


def dep_path(a: Token, b: Token) -> str:
    """The dependency path from a to b: relations up to their common ancestor, then down."""
    up = [a]
    while up[-1].head.i != up[-1].i and len(up) <= 12:
        up.append(up[-1].head)
    ups = {t.i: k for k, t in enumerate(up)}
    down = [b]
    while down[-1].i not in ups and down[-1].head.i != down[-1].i and len(down) <= 12:
        down.append(down[-1].head)
    if down[-1].i not in ups:
        return "none"
    k = ups[down[-1].i]
    if k + len(down) - 1 > MAX_PATH:
        return "far"
    rising = ["^" + t.dep_ for t in up[:k]]
    falling = ["v" + t.dep_ for t in reversed(down[:-1])]
    return "/".join(rising + falling) or "self"


def preposition(token: Token) -> str:
    head = token.head
    if token.dep_ == "pobj" and head.dep_ == "prep":
        return head.lower_
    for child in token.children:
        if child.dep_ == "case":  # French: "à Niamey"
            return child.lower_
    return ""


def argument_features(frame: Frame, trigger: int, event_type: str, m: int) -> Features:
    doc = frame.doc
    trig = doc[trigger]
    s, e, label = frame.mentions[m]
    head = frame.mention_head(m)
    path = dep_path(trig, head)
    prep = preposition(head)
    side = "L" if e <= trigger else "R" if s > trigger else "in"
    distance = abs(head.i - trigger)
    bucket = "0-2" if distance <= 2 else "3-5" if distance <= 5 else "6-10" if distance <= 10 else "11+"
    rule = frame.rule_role(trigger, (s, e))
    f: Features = {
        "type=" + event_type: 1,
        "label=" + label: 1,
        "type_label=" + event_type + "_" + label: 1,
        "path=" + path: 1,
        "path_label=" + path + "_" + label: 1,
        "type_path=" + event_type + "_" + path: 1,
        "prep=" + prep: 1,
        "prep_label=" + prep + "_" + label: 1,
        "type_prep=" + event_type + "_" + prep: 1,
        "side=" + side: 1,
        "side_label=" + side + "_" + label: 1,
        "dist=" + bucket: 1,
        "head_dep=" + head.dep_: 1,
        "trig_lemma=" + trig.lemma_.lower(): 1,
        "trig_pos=" + trig.pos_: 1,
        "rule_role=" + (rule or "none"): 1,
        "rule_role_label=" + (rule or "none") + "_" + label: 1,
    }
    if head.head.i == trigger:
        f["child_of_trigger=" + head.dep_] = 1
    for t, ms, me, role in frame.rule_args:  # the roles the rules gave other mentions of this event
        if t == trigger and not (ms < e and s < me):
            f["event_has=" + role] = 1
    return f


def stance_features(frame: Frame, holder: int, target: int) -> Features:
    doc = frame.doc
    ts, te, target_label = frame.mentions[target]
    target_head = frame.mention_head(target)
    f: Features = {"target_label=" + target_label: 1, "target_dep=" + target_head.dep_: 1}
    if holder == AUTHOR:
        f["holder=author"] = 1
        holder_span: TokenSpan | None = None
    else:
        hs, he, holder_label = frame.mentions[holder]
        holder_span = (hs, he)
        holder_head = frame.mention_head(holder)
        path = dep_path(holder_head, target_head)
        f.update(
            {
                "holder_label=" + holder_label: 1,
                "labels=" + holder_label + "_" + target_label: 1,
                "holder_dep=" + holder_head.dep_: 1,
                "path=" + path: 1,
                "order=" + ("HT" if hs < ts else "TH"): 1,
                "holder_head=" + holder_head.head.lemma_.lower(): 1,
            }
        )
    f["target_head=" + target_head.head.lemma_.lower()] = 1
    rule = frame.rule_stance(holder_span, (ts, te))
    f["rule=" + (rule or "none")] = 1
    for event_type in linking_events(frame, holder, target):
        f["event=" + event_type] = 1
    sent = frame.sentence(ts)
    for token in doc[sent[0] : sent[1]]:
        if token.pos_ in ("VERB", "NOUN", "ADJ") and not token.is_stop:
            f["sent=" + token.lemma_.lower()] = 1
    return f


def linking_events(frame: Frame, holder: int, target: int) -> list[str]:
    """Event types (of the rules' or the merged events) whose arguments hold the holder as actor and the
    target in another role ("X condemned Y" → "ACCUSE_recipient"), or the target alone for the author."""
    target_span = frame.mentions[target][:2]
    holder_span = None if holder == AUTHOR else frame.mentions[holder][:2]
    found = []
    for trigger, event_types in frame.rule_types.items():
        target_role = frame.rule_role(trigger, target_span)
        if not target_role:
            continue
        if holder_span is None:
            found += [f"{t}_author_{target_role}" for t in sorted(event_types)]
        elif frame.rule_role(trigger, holder_span) == "actor" and target_role != "actor":
            found += [f"{t}_{target_role}" for t in sorted(event_types)]
    return found
