"""Stance suggestions: from events (supporting events → FAVOR, hostile ones → AGAINST) and from cue
words inside quoted speech, held by the speaker the quote is attributed to (or the author).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from typing import Any

from spacy.tokens import Doc, Token

from annotations.nlp import syntax
from annotations.nlp.docview import DocView
from annotations.nlp.labels import SchemaView
from annotations.nlp.mentions import MentionIndex
from annotations.nlp.types import EventSuggestion, StanceSuggestion

# “…”, "…" and «…»; bounded so an unclosed quote cannot swallow the article.
QUOTE_RE = re.compile(r"“([^“”]{1,1500})”|\"([^\"]{1,1500})\"|«([^«»]{1,1500})»")
NEGATORS = frozenset({"no", "not", "n't", "never", "without"})
QUOTE_INTRODUCERS = frozenset({"that", ":", ","})
MAX_SPEAKER_DISTANCE = 60  # tokens between a quote and the verb that introduces it
COREF_LOOKBACK = 150  # mentions searched back for the person a role noun ("the official") refers to


def _stripped(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


class StanceRules:
    def __init__(self, patterns: dict[str, Any], schema: SchemaView):
        raw = patterns.get("stance", {})
        scores = patterns.get("scores", {})
        labels = set(schema.stance_labels)
        self.event_labels: dict[str, str] = {}
        for label, types in raw.get("events", {}).items():
            if label in labels:
                self.event_labels.update({event_type: label for event_type in types})
        self.symmetric = frozenset(raw.get("symmetric_events", []))
        self.event_realis = frozenset(raw.get("event_realis", ["actual", "future"]))
        self.cue_labels = {label for label in raw.get("cues", {}) if label in labels}
        self.speech_verbs = frozenset(raw.get("speech_verbs", []))
        self.role_nouns = frozenset(raw.get("role_nouns", []))
        self.holder_labels = frozenset(raw.get("holder_labels", ["PERSON", "ORG", "GPE", "NORP"]))
        self.target_labels = frozenset(raw.get("target_labels", ["PERSON", "ORG", "GPE", "NORP"]))
        self.reported_cues: dict[str, str] = {
            word: label for label, words in raw.get("reported_cues", {}).items() if label in labels for word in words
        }
        self.reported_governors = frozenset(raw.get("reported_noun_governors", []))
        self.reported_preps = frozenset(raw.get("reported_target_preps", ["for", "with", "of", "to", "against", "on"]))
        self.reported_score = float(scores.get("stance_reported", 0.5))
        self.event_score = float(scores.get("stance_event", 0.5))
        self.quote_score = float(scores.get("stance_quote", 0.55))
        self.quote_author_score = float(scores.get("stance_quote_author", 0.4))

    # --- from events ------------------------------------------------------------------------

    def from_events(
        self, view: DocView, events: Sequence[EventSuggestion], index: MentionIndex
    ) -> list[StanceSuggestion]:
        doc = view.doc
        out: list[StanceSuggestion] = []
        for event in events:
            label = self.event_labels.get(event.event_type)
            if label is None or event.realis not in self.event_realis:
                continue
            actors = _unique(self._named(index, a.mention) for a in event.arguments if a.role == "actor")
            targets = _unique(self._named(index, a.mention) for a in event.arguments if a.role == "recipient")
            pairs = [(h, t) for h in actors for t in targets]
            if not targets and event.event_type in self.symmetric:
                pairs = [(h, t) for h in actors for t in actors if h != t]
            if not pairs:
                continue
            span = doc.char_span(event.trigger_start, event.trigger_end, alignment_mode="expand")
            if span is None:
                continue
            sent_start, sent_end = view.sentence(span.start)
            sentence = doc[sent_start:sent_end]
            start, end = _evidence(
                view.text, sentence.start_char, sentence.end_char, event.trigger_start, event.trigger_end
            )
            for holder, target in pairs:
                if self._same_actor(index, holder, target):
                    continue
                out.append(
                    StanceSuggestion(
                        holder=holder,
                        target=target,
                        label=label,
                        scope="sentence",
                        evidence_start=start,
                        evidence_end=end,
                        evidence_text=view.text[start:end],
                        score=round(min(self.event_score, event.score), 4),
                    )
                )
        return out

    def _named(self, index: MentionIndex, m: int) -> int:
        """A stance is held by / aimed at a named actor: "the Niger putschists", "Niger's ruling junta",
        "French forces" stand for Niger, Niger, French when the phrase names one; else the phrase itself."""
        if m not in index.nominal_ids:
            return m
        head = index.doc[index.token_ends[m] - 1]
        for child in head.children:
            if child.dep_ not in ("poss", "compound", "amod", "nmod") or child.i > head.i:
                continue
            for named in index.at(child.i):
                if named != m and named not in index.nominal_ids and index.mentions[named].label in self.target_labels:
                    return named
        return m

    @staticmethod
    def _same_actor(index: MentionIndex, a: int, b: int) -> bool:
        if a == b:
            return True
        ma, mb = index.mentions[a], index.mentions[b]
        if ma.actor_name is not None and ma.actor_name == mb.actor_name:
            return True
        if ma.actor_name is None and mb.actor_name is None and ma.text == mb.text:
            return True
        # "Itte" and "Sylvain Itte": one name is the end of the other
        short, long = sorted((ma.text, mb.text), key=len)
        return ma.label == mb.label == "PERSON" and long.endswith(" " + short)

    # --- from reported evaluations ----------------------------------------------------------

    def from_reported(self, view: DocView, index: MentionIndex, positions: Sequence[int]) -> list[StanceSuggestion]:
        """An evaluative verb ("X condemned Y", "X welcomed Y's decision") or noun ("X expressed support
        for Y", "X's condemnation of Y") with a named holder (its subject) and a named target (its
        object) in the same clause. Both must be found: no stance is guessed."""
        doc = view.doc
        out: list[StanceSuggestion] = []
        for i in positions:
            token = doc[i]
            label = self.reported_cues.get(token.lemma_) or self.reported_cues.get(token.lower_)
            if label is None or _negated(token):
                continue
            if token.pos_ == "VERB":
                subjects = syntax.clause_subjects(token)
                objects = [c for c in token.children if c.dep_ == "dobj"]
                objects += [h for p, h in syntax.prep_objects(token) if p in self.reported_preps]
            elif token.pos_ == "NOUN":
                governor = syntax.governing_verb(token)
                subjects = [c for c in token.children if c.dep_ == "poss"]
                if not subjects and governor is not None and governor.lemma_ in self.reported_governors:
                    subjects = syntax.clause_subjects(governor)
                objects = [h for p, h in syntax.prep_objects(token) if p in self.reported_preps]
            else:
                continue
            holders = _unique(
                self._named(index, m)
                for subject in subjects
                for m in syntax.np_mentions(index, subject, through_preps=True)[:1]
                if index.mentions[m].label in self.holder_labels
            )
            targets = _unique(
                self._named(index, m)
                for obj in objects
                for head in syntax.conjuncts(obj)
                for m in syntax.np_mentions(index, head, through_preps=False)[:1]
                if index.mentions[m].label in self.target_labels
            )
            if not holders or not targets:
                continue
            sent_start, sent_end = view.sentence(i)
            start, end = _evidence(
                view.text,
                doc[sent_start].idx,
                doc[sent_end - 1].idx + len(doc[sent_end - 1]),
                token.idx,
                token.idx + len(token),
            )
            for holder in holders:
                for target in targets:
                    if self._same_actor(index, holder, target):
                        continue
                    out.append(
                        StanceSuggestion(
                            holder=holder,
                            target=target,
                            label=label,
                            scope="sentence",
                            evidence_start=start,
                            evidence_end=end,
                            evidence_text=view.text[start:end],
                            score=self.reported_score,
                        )
                    )
        return out

    # --- from quotes ------------------------------------------------------------------------

    def from_quotes(
        self, view: DocView, index: MentionIndex, cue_starts: list[int], cue_labels: list[str], parsed: bool
    ) -> list[StanceSuggestion]:
        if not cue_starts or not self.cue_labels:
            return []
        doc = view.doc
        text = view.text
        out: list[StanceSuggestion] = []
        for match in QUOTE_RE.finditer(text):
            group = next(g for g in (1, 2, 3) if match.group(g) is not None)
            start, end = _stripped(text, match.start(group), match.end(group))
            if start >= end:
                continue
            span = doc.char_span(start, end, alignment_mode="expand")
            if span is None:
                continue
            label = self._quote_label(doc, span.start, span.end, cue_starts, cue_labels)
            if label is None:
                continue
            targets = [
                m for m in index.in_token_range(span.start, span.end) if index.mentions[m].label in self.target_labels
            ]
            verb = self._speech_verb(view, span.start, span.end) if parsed else None
            if not targets and verb is not None:
                targets = self._spoken_about(verb, index, span.start, span.end)
            if not targets:
                continue
            holder = self._speaker(view, index, verb, span.start, span.end) if verb is not None else None
            for target in targets:
                if holder is not None and self._same_actor(index, holder, target):
                    continue
                out.append(
                    StanceSuggestion(
                        holder=holder,
                        target=target,
                        label=label,
                        scope="sentence",
                        evidence_start=start,
                        evidence_end=end,
                        evidence_text=text[start:end],
                        score=self.quote_score if holder is not None else self.quote_author_score,
                    )
                )
        return out

    def _quote_label(self, doc: Doc, start: int, end: int, cue_starts: list[int], cue_labels: list[str]) -> str | None:
        votes: dict[str, int] = {}
        lo = bisect.bisect_left(cue_starts, start)
        hi = bisect.bisect_left(cue_starts, end)
        for position, label in zip(cue_starts[lo:hi], cue_labels[lo:hi], strict=True):
            if label not in self.cue_labels or _negated(doc[position]):
                continue
            votes[label] = votes.get(label, 0) + 1
        if not votes:
            return None
        ranked = sorted(votes.items(), key=lambda item: (-item[1], item[0]))
        if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
            return None  # as many cues each way: no suggestion
        return ranked[0][0]

    def _spoken_about(self, verb: Token, index: MentionIndex, start: int, end: int) -> list[int]:
        """No name inside the quote: what the speech verb's own complements name ("said of the decision by Mali")."""
        found: list[int] = []
        for child in verb.children:
            if child.dep_ not in ("prep", "dobj", "dative"):
                continue
            for i in range(child.left_edge.i, child.right_edge.i + 1):
                if start <= i < end:
                    continue
                for m in index.at(i):
                    if m not in found and index.mentions[m].label in self.target_labels:
                        found.append(m)
        return found

    def _speaker(self, view: DocView, index: MentionIndex, verb: Token, start: int, end: int) -> int | None:
        """The mention that utters the quote: subject of the nearest speech verb before it in its
        sentence, else after it ("…," he said); a role noun ("the American official") is resolved to
        the last person introduced with the same modifier ("the American Assistant Secretary …, Molly Phee")."""
        holder: int | None = None
        for subject in syntax.clause_subjects(verb):
            if subject.lower_ in ("he", "she"):
                holder = self._previous_person(index, subject.i)
            else:
                holder = self._first_holder(syntax.np_mentions(index, subject, through_preps=True), index)
            if holder is not None:
                break
        if holder is None:
            holder = self._nearest_in_sentence(view, index, verb, start, end)
        if holder is not None and index.mentions[holder].label != "PERSON":
            person = self._role_noun_person(view.doc, index, holder)
            if person is not None:
                holder = person
        return holder

    def _speech_verb(self, view: DocView, start: int, end: int) -> Token | None:
        doc = view.doc
        # The sentences around the quote marks, not inside the quote: a quoted passage may begin or
        # end a paragraph of its own ('… specifies that "\n\nif they choose …').
        before = start - 1
        while before > 0 and doc[before].is_space:
            before -= 1
        lead = before - 1
        while lead > 0 and (doc[lead].is_space or doc[lead].is_quote):
            lead -= 1
        if lead >= 0 and doc[lead].lower_ in QUOTE_INTRODUCERS:
            # 'specifies that "…', 'said: "…': the sentence that introduces the quote (the parser
            # sometimes starts a sentence at the "that" itself)
            before = lead - 1 if lead > 0 and doc[lead].is_sent_start else lead
        first_start, _ = view.sentence(max(before, 0))
        for i in range(start - 1, max(first_start, start - MAX_SPEAKER_DISTANCE) - 1, -1):
            if doc[i].lemma_ in self.speech_verbs:
                return doc[i]
        _, last_end = view.sentence(end - 1)
        for i in range(end, min(last_end, end + MAX_SPEAKER_DISTANCE)):
            if doc[i].lemma_ in self.speech_verbs:
                return doc[i]
        return None

    def _first_holder(self, candidates: list[int], index: MentionIndex) -> int | None:
        return next((m for m in candidates if index.mentions[m].label in self.holder_labels), None)

    def _nearest_in_sentence(self, view: DocView, index: MentionIndex, verb: Token, start: int, end: int) -> int | None:
        """Parse too broken for a subject: the closest holder-like mention on the verb's side of the quote."""
        sent_start, sent_end = view.sentence(verb.i)
        if verb.i < start:
            span_range: Sequence[int] = range(verb.i - 1, sent_start - 1, -1)
        else:
            span_range = range(verb.i + 1, sent_end)
        for i in span_range:
            if start <= i < end:
                continue
            found = self._first_holder(index.at(i), index)
            if found is not None:
                return found
        return None

    def _previous_person(self, index: MentionIndex, token_i: int) -> int | None:
        """ "…, she said": the last person mentioned before the pronoun (a bounded look back)."""
        last = bisect.bisect_left(index.token_starts, token_i) - 1
        for m in range(last, max(last - COREF_LOOKBACK, -1), -1):
            if index.token_ends[m] <= token_i and index.mentions[m].label == "PERSON":
                return m
        return None

    def _role_noun_person(self, doc: Doc, index: MentionIndex, holder: int) -> int | None:
        after = index.token_ends[holder]
        role_noun = False
        for i in range(after, min(after + 4, len(doc))):
            token = doc[i]
            if token.lower_ in self.role_nouns or token.lemma_.lower() in self.role_nouns:
                role_noun = True
                break
            if token.is_punct or token.pos_ in ("VERB", "AUX", "ADP"):
                break
        if not role_noun:
            return None
        key = self._actor_key(index, holder)
        for m in range(holder - 1, max(holder - COREF_LOOKBACK, 0) - 1, -1):
            if index.mentions[m].label != "PERSON":
                continue
            root = doc[index.token_starts[m] : index.token_ends[m]].root
            anchor = root.head if root.dep_ == "appos" else root
            left = max(anchor.left_edge.i, index.token_starts[m] - 12)
            for other in index.in_token_range(left, index.token_starts[m]):
                if self._actor_key(index, other) == key:
                    return m
        return None

    @staticmethod
    def _actor_key(index: MentionIndex, m: int) -> str:
        mention = index.mentions[m]
        return mention.actor_name or mention.text.lower()


def _unique(items) -> list[int]:
    out: list[int] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


def _evidence(text: str, sent_start: int, sent_end: int, start: int, end: int) -> tuple[int, int]:
    """The trigger's sentence, cut to its line (headlines and datelines are often glued to it)."""
    line_start = text.rfind("\n", sent_start, start) + 1 or sent_start
    line_start = max(line_start, sent_start)
    line_end = text.find("\n", end, sent_end)
    return _stripped(text, line_start, sent_end if line_end == -1 else line_end)


def _negated(token: Token) -> bool:
    if any(child.dep_ == "neg" for child in token.children):
        return True
    head = token.head
    if token.dep_ in ("acomp", "attr", "dobj") and any(child.dep_ == "neg" for child in head.children):
        return True
    previous = token.nbor(-1) if token.i > 0 else None
    return previous is not None and previous.lower_ in NEGATORS
