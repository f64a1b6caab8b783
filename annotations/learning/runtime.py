"""Learned components in use: loaded from their files, run on the Preannotator's parsed doc, merged with the rules.

The Preannotator calls three methods, in its own order: `apply_ner` before the gazetteer (the learned
ner's entities replace the base model's; the gazetteer still wins over both), `merge_events` after the
event rules (learned triggers added or retyped where they win, then every event's arguments decided
pair by pair), `merge_stances` after the stance rules (learned holder–target pairs the rules lack).
Each returns the smallest top-1 minus top-2 probability it saw: the article's uncertainty.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from annotations.learning import classifiers, ner
from annotations.learning.classifiers import Classifier
from annotations.learning.corpus import rule_info
from annotations.learning.datasets import Schema, argument_pairs, merge_roles, merge_stance, merge_trigger, stance_pairs
from annotations.learning.features import (
    AUTHOR,
    Frame,
    argument_features,
    stance_features,
    token_index,
    token_span,
    trigger_candidates,
    trigger_features,
    trigger_token,
)
from annotations.learning.results import COMPONENTS, ModelLoadError

if TYPE_CHECKING:
    from spacy.tokens import Doc

    from annotations.nlp.mentions import MentionIndex
    from annotations.nlp.types import EventSuggestion, StanceSuggestion

LEARNED_NER_SCORE = 0.75  # the ner gives no confidences: one fixed score, above the base model's 0.7


class LearnedComponents:
    ner_score = LEARNED_NER_SCORE

    def __init__(self, *, schema: Schema, ner_pipe: Any = None, payloads: Mapping[str, dict[str, Any]] | None = None):
        self.schema = schema
        self.ner_pipe = ner_pipe
        self.payloads = dict(payloads or {})
        self.mention_labels = schema.entity_codes

    @classmethod
    def load(
        cls,
        paths: Mapping[str, Path],
        *,
        schema: dict[str, Any],
        retired_labels: Mapping[str, Collection[str]] | None = None,
    ) -> LearnedComponents:
        """Any subset of COMPONENTS, each from its own file (a training run's directory for mentions)."""
        view = Schema(schema, retired_labels)
        ner_pipe = None
        payloads: dict[str, dict[str, Any]] = {}
        for component, raw in paths.items():
            path = Path(raw)
            if component not in COMPONENTS:
                raise ModelLoadError(component, str(path), f"no such component (known: {', '.join(COMPONENTS)})")
            if component == "mentions":
                if not path.is_dir():
                    raise ModelLoadError(component, str(path), "no such directory")
                try:
                    ner_pipe = ner.load(path)
                except Exception as exc:  # spaCy raises OSError, ValueError, KeyError… on a broken directory
                    raise ModelLoadError(component, str(path), f"unreadable ({type(exc).__name__}: {exc})") from exc
            else:
                payloads[component] = classifiers.load(path, component)
        learned = cls(schema=view, ner_pipe=ner_pipe, payloads=payloads)
        learned.mention_labels = view.entity_codes - set((retired_labels or {}).get("mentions", ()))
        return learned

    @property
    def components(self) -> list[str]:
        return [c for c in COMPONENTS if (c == "mentions" and self.ner_pipe is not None) or c in self.payloads]

    def _model(self, component: str) -> tuple[Classifier, dict[str, float]] | None:
        payload = self.payloads.get(component)
        return None if payload is None else (payload["model"], payload["merge"])

    # --- mentions ----------------------------------------------------------------------------

    def apply_ner(self, doc: Doc) -> bool:
        """Run the learned ner on the parsed doc. spaCy's ner keeps the entities already set (the base
        model's), so it adds its own in the gaps: on the English dev stories that beat clearing the
        base entities first (0.837 vs 0.827 mention F1). Its retired or unknown labels are dropped."""
        if self.ner_pipe is None:
            return False
        before = {(e.start, e.end, e.label_) for e in doc.ents}
        self.ner_pipe(doc)
        doc.ents = [e for e in doc.ents if (e.start, e.end, e.label_) in before or e.label_ in self.mention_labels]
        return True

    # --- triggers and arguments --------------------------------------------------------------

    def merge_events(self, doc: Doc, text: str, index: MentionIndex, events: list[EventSuggestion]) -> float | None:
        """Merge learned triggers and arguments into `events` (in place); the smallest margin seen."""
        from annotations.nlp import ArgumentSuggestion, EventSuggestion

        margins: list[float] = []
        frame = runtime_frame(doc, index, events, [])
        starts = token_index(doc)
        triggers = self._model("triggers")
        if triggers is not None:
            model, merge = triggers
            by_token: dict[int, list[EventSuggestion]] = {}
            for event in events:
                by_token.setdefault(event_token(doc, starts, event), []).append(event)
            candidates = trigger_candidates(frame)
            realis = "actual" if "actual" in self.schema.realis else ""
            for i, p in zip(candidates, model.proba([trigger_features(frame, i) for i in candidates]), strict=True):
                margins.append(classifiers.margin(p))
                old = by_token.get(i, [])
                merged = merge_trigger(
                    {e.event_type for e in old},
                    p,
                    add=merge["add"],
                    drop=merge["drop"],
                    allowed=self.schema.event_types,
                )
                kept_types = {t for t, _, learned in merged if not learned}
                for event in old:
                    if event.event_type not in kept_types:
                        events.remove(event)
                for event_type, score, learned in merged:
                    if not learned:
                        continue
                    token = doc[i]
                    base = old[0] if old else None  # retyped: the rule's realis, mode, contexts, arguments
                    events.append(
                        EventSuggestion(
                            event_type=event_type,
                            trigger_start=token.idx,
                            trigger_end=token.idx + len(token.text),
                            trigger_text=token.text,
                            mode="",
                            realis=base.realis if base else realis,
                            contexts=list(base.contexts) if base else [],
                            score=round(score, 4),
                            arguments=list(base.arguments) if base else [],
                        )
                    )
        arguments = self._model("arguments")
        if arguments is not None:
            model, merge = arguments
            for event in events:
                trigger = event_token(doc, starts, event)
                pairs = argument_pairs(frame, trigger)
                probs = model.proba([argument_features(frame, trigger, event.event_type, m) for m in pairs])
                rule_roles = {a.mention: a.role for a in event.arguments}
                offered = []
                for m, p in zip(pairs, probs, strict=True):
                    margins.append(classifiers.margin(p))
                    label = frame.mentions[m][2]
                    valid = [
                        r
                        for r in self.schema.roles.get(event.event_type, {})
                        if self.schema.valid_role(event.event_type, r, label)
                    ]
                    offered.append((m, rule_roles.get(m, ""), p, valid))
                decided = {m: r for m, r in rule_roles.items() if m not in set(pairs)}
                roles = merge_roles(offered, add=merge["add"], drop=merge["drop"])
                decided.update({m: role for m, (role, _, _) in roles.items()})
                event.arguments = [ArgumentSuggestion(role, m) for m, role in sorted(decided.items())]
        for event in events:  # retyped events keep only the roles their new type has
            event.arguments = [
                a
                for a in event.arguments
                if self.schema.valid_role(event.event_type, a.role, index.mentions[a.mention].label)
            ]
        events.sort(key=lambda e: (e.trigger_start, e.event_type))
        return min(margins) if margins else None

    # --- stance ------------------------------------------------------------------------------

    def merge_stances(
        self, doc: Doc, text: str, index: MentionIndex, events: list[EventSuggestion], stances: list[StanceSuggestion]
    ) -> float | None:
        """Add the learned stances on holder–target pairs the rules left without one (in place)."""
        from annotations.nlp import StanceSuggestion

        found = self._model("stance")
        if found is None:
            return None
        model, merge = found
        frame = runtime_frame(doc, index, events, stances)
        pairs = list(stance_pairs(frame, bool(self.payloads["stance"].get("with_author"))))
        probs = model.proba([stance_features(frame, h, t) for h, t in pairs])
        margins: list[float] = []
        for (holder, target), p in zip(pairs, probs, strict=True):
            margins.append(classifiers.margin(p))
            holder_span = None if holder == AUTHOR else frame.mentions[holder][:2]
            rule = frame.rule_stance(holder_span, frame.mentions[target][:2])
            label, score = merge_stance(rule, p, add=merge["add"], allowed=self.schema.stance_labels)
            if not label:
                continue
            sent = frame.sentence(frame.mentions[target][0])
            span = doc[sent[0] : sent[1]]
            start, end = span.start_char, span.end_char
            while end > start and text[end - 1].isspace():
                end -= 1
            stances.append(
                StanceSuggestion(
                    holder=None if holder == AUTHOR else holder,
                    target=target,
                    label=label,
                    scope="sentence",
                    evidence_start=start,
                    evidence_end=end,
                    evidence_text=text[start:end],
                    score=round(score, 4),
                )
            )
        return min(margins) if margins else None


def event_token(doc: Doc, starts: list[int], event: EventSuggestion) -> int:
    return trigger_token(doc, token_span(starts, doc, event.trigger_start, event.trigger_end))


def runtime_frame(
    doc: Doc, index: MentionIndex, events: list[EventSuggestion], stances: list[StanceSuggestion]
) -> Frame:
    """The Preannotator's state as a Frame: its mentions (by index), events and stances as the rules' output."""
    frame = Frame(doc=doc)
    frame.mentions = [
        (index.token_starts[m], index.token_ends[m], mention.label) for m, mention in enumerate(index.mentions)
    ]
    starts = token_index(doc)
    for event in events:
        trigger = event_token(doc, starts, event)
        frame.rule_types.setdefault(trigger, set()).add(event.event_type)
        frame.rule_info[trigger] = rule_info(event)
        for argument in event.arguments:
            s, e, _ = frame.mentions[argument.mention]
            frame.rule_args.append((trigger, s, e, argument.role))
    for stance in stances:
        holder = None if stance.holder is None else frame.mentions[stance.holder][:2]
        frame.rule_stances.append((holder, frame.mentions[stance.target][:2], stance.label))
    return frame
