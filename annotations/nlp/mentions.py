"""Entity mentions: the model's NER, corrected by a gazetteer EntityRuler built from the actor registry.

The ruler runs after `ner` with overwrite_ents=True: on the seeds that is what removes the model's
"Niamey" PERSON and "Niger" DATE (putting the ruler before `ner` gives the same entities here, but
lets the model invent fragments around the preset spans, e.g. `the “` as ORG). A model entity that the
ruler displaced is kept as an extra mention when it strictly contains the ruler's span and is a
different kind of name (FAC "Niamey airport" around GPE "Niamey"): mentions may overlap, doc.ents may not.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from spacy.language import Language
from spacy.pipeline import EntityRuler
from spacy.tokens import Doc, Span, Token

from annotations.nlp.entity_windows import WindowPatterns
from annotations.nlp.labels import SchemaView
from annotations.nlp.types import ActorEntry, MentionSuggestion


class GazetteerRuler(EntityRuler):
    """An EntityRuler tuned for long articles, same semantics otherwise (longest match first, then
    leftmost; with overwrite_ents the ruler's spans replace the overlapping model entities).

    spaCy's own `set_annotations` rebuilds the entity list once per match, which is quadratic on a
    long article (thousands of "Niger" matches × thousands of entities): this one is linear. Token
    patterns run only in short windows before their anchor words (see `add_window_patterns`).
    """

    windows: WindowPatterns | None = None
    # Lower forms the model takes for a one-word name but the rules file says are common nouns ("État").
    not_names: frozenset[str] = frozenset()

    def add_window_patterns(self, patterns: Sequence[dict[str, Any]]) -> None:
        """Token patterns (WEAPON, QUANTITY, DATE…) matched in short windows around their anchor words
        (`entity_windows`)."""
        self.windows = WindowPatterns(self.nlp.vocab, patterns) if patterns else None

    def match(self, doc: Doc) -> list[tuple[int, int, int]]:
        found = {(m_id, start, end) for m_id, start, end in self.phrase_matcher(doc) if start != end}
        if self.windows is not None:
            found |= self.windows.match(doc)
        return sorted(found, key=lambda m: (m[2] - m[1], -m[1]), reverse=True)

    def _drop_non_names(self, doc: Doc) -> None:
        """A model entity needs a token of two letters or digits ("s’", "n’" are elisions), a name a letter
        ("2023-09-17" is no place), and it must not be a listed noun."""
        ents = doc.ents
        kept = [
            ent
            for ent in ents
            if any(sum(ch.isalnum() for ch in token.text) >= 2 for token in ent)
            and not (len(ent) == 1 and ent[0].lower_ in self.not_names)
            and (ent.label_ not in NAME_LABELS or any(ch.isalpha() for ch in ent.text))
        ]
        if len(kept) != len(ents):
            doc.ents = kept

    def __call__(self, doc: Doc) -> Doc:
        self.apply(doc)
        return doc

    def apply(self, doc: Doc) -> tuple[list[Span], list[Span]]:
        """Set doc.ents; return (the ruler's spans, the model entities they displaced)."""
        self._drop_non_names(doc)
        matches = self.match(doc)
        taken = bytearray(len(doc))
        new_spans: list[Span] = []
        for match_id, start, end in matches:
            if any(taken[start:end]):
                continue
            if not self.overwrite and any(t.ent_type for t in doc[start:end]):
                continue
            if match_id in self._ent_ids:
                label, ent_id = self._ent_ids[match_id]
                span = Span(doc, start, end, label=label, span_id=ent_id)
            else:
                span = Span(doc, start, end, label=match_id)
            new_spans.append(span)
            taken[start:end] = b"\x01" * (end - start)
        if not new_spans:
            return [], []
        kept: list[Span] = []
        displaced: list[Span] = []
        for ent in doc.ents:
            (displaced if any(taken[ent.start : ent.end]) else kept).append(ent)
        doc.ents = sorted(kept + new_spans, key=lambda span: span.start)
        new_spans.sort(key=lambda span: span.start)
        return new_spans, displaced


APOSTROPHES = ("'", "\u2019")


def _spellings(surface: str) -> list[str]:
    """The name as written, and with the other apostrophe (French texts use ’: "Côte d’Ivoire")."""
    out = [surface]
    for a, b in (APOSTROPHES, APOSTROPHES[::-1]):
        if a in surface:
            out.append(surface.replace(a, b))
    return out


def gazetteer_patterns(actors: Iterable[ActorEntry]) -> tuple[list[dict[str, Any]], list[str]]:
    """Phrase patterns (exact spelling) for every name and alias; an alias shared by two actors is dropped."""
    owners: dict[str, set[tuple[str, str]]] = {}
    for actor in actors:
        surfaces = {spelling for written in (actor.name, *actor.aliases) for spelling in _spellings(written.strip())}
        for surface in surfaces:
            if surface:
                owners.setdefault(surface, set()).add((actor.name, actor.kind))
    patterns: list[dict[str, Any]] = []
    notes: list[str] = []
    for surface in sorted(owners):
        found = owners[surface]
        if len(found) > 1:
            names = ", ".join(sorted(name for name, _ in found))
            notes.append(f"gazetteer: {surface!r} names several actors ({names}); not used for linking")
            continue
        ((name, kind),) = found
        patterns.append({"label": kind, "pattern": surface, "id": name})
    return patterns, notes


def build_ruler(
    nlp: Language,
    actors: Sequence[ActorEntry],
    entity_patterns: Sequence[dict[str, Any]],
    not_names: Iterable[str] = (),
) -> tuple[GazetteerRuler, list[str]]:
    """The gazetteer (actor names, exact spelling) plus the token patterns of the rules file (WEAPON…);
    `not_names` (lower forms) are one-word model names the rules file says are nouns ("État")."""
    ruler = GazetteerRuler(nlp, name="gazetteer", phrase_matcher_attr="ORTH", overwrite_ents=True)
    ruler.not_names = frozenset(word.lower() for word in not_names)
    patterns, notes = gazetteer_patterns(actors)
    # Phrase patterns only need the tokenizer: keep the trained components out of it.
    with nlp.select_pipes(disable=nlp.pipe_names):
        ruler.add_patterns(patterns)
    ruler.add_window_patterns(entity_patterns)
    return ruler, notes


# Left dependents of a nominal head that belong to its mention ("ruling military junta", "Russian
# defence ministry"); determiners, possessors and numbers do not.
NOMINAL_MODIFIER_DEPS = frozenset({"amod", "compound", "nmod"})
NOMINAL_MODIFIER_LABELS = frozenset({"NORP"})  # "French troops" is one mention; "Niger putschists" is two
NAME_FIRST_LABELS = frozenset({"ORG", "PERSON"})
# The model's spans keep "the" ("the National Assembly"); the annotation guidelines never do, except
# in dates and amounts ("the past decade", "a dozen").
LEADING_DETERMINERS = frozenset({"the", "a", "an"})
# French articles, trimmed only when written in lower case ("la Défense"; "Le Monde" keeps its "Le").
LOWER_CASE_DETERMINERS = frozenset({"le", "la", "les", "l'", "l’", "un", "une", "des", "du", "de", "d'", "d’"})
UNTRIMMED_LABELS = frozenset({"DATE", "QUANTITY", "MONEY"})
NAME_LABELS = frozenset({"PER", "PERSON", "LOC", "GPE", "ORG", "MISC", "NORP", "FAC"})


@dataclass
class MentionIndex:
    """The document's mentions plus token → mention look-ups used by the event and stance rules.

    `nominal_heads` (lemma → entity code, from the rules file's "entities.nominal_heads") lets an
    event or stance rule turn an unnamed noun phrase that fills a role ("the junta", "coup plotters",
    "French troops") into a mention on demand: only the phrases a rule uses become mentions.
    """

    doc: Doc
    mentions: list[MentionSuggestion]
    token_starts: list[int]  # per mention, first token
    token_ends: list[int]  # per mention, token end (exclusive)
    by_token: dict[int, list[int]]
    text: str = ""
    nominal_heads: dict[str, str] = field(default_factory=dict)
    nominal_score: float = 0.5
    nominal_ids: set[int] = field(default_factory=set)

    def nominal(self, head: Token) -> list[int]:
        """The mention for the unnamed noun phrase headed by `head` (created once), or [] when its
        head noun is not a known actor / force / weapon noun or the phrase would overlap a name."""
        if head.pos_ not in ("NOUN", "PROPN") or self.by_token.get(head.i):
            return []
        code = self.nominal_heads.get(head.lemma_.lower()) or self.nominal_heads.get(head.lower_)
        if code is None:
            return []
        if any(c.dep_ in ("appos", "compound") and c.i > head.i and self.by_token.get(c.i) for c in head.children):
            return []  # "his Russian counterpart Yevkurov" is Yevkurov
        start = head.i
        i = head.i - 1
        while i >= 0:
            token = self.doc[i]
            if token.dep_ not in NOMINAL_MODIFIER_DEPS or not start <= token.head.i <= head.i or token.is_punct:
                break
            owners = self.by_token.get(i, [])
            if any(self.mentions[m].label in NAME_FIRST_LABELS for m in owners):
                return []  # "an ECOWAS delegation" is ECOWAS: the name is the argument
            if any(self.mentions[m].label not in NOMINAL_MODIFIER_LABELS for m in owners):
                break
            start = min([i, *(self.token_starts[m] for m in owners)])
            i = start - 1
        span = self.doc[start : self._right_edge(head)]
        char_start, char_end = span.start_char, span.end_char
        if "\n\n" in self.text[char_start:char_end]:
            span = self.doc[head.i : head.i + 1]
            char_start, char_end = span.start_char, span.end_char
        index = len(self.mentions)
        self.nominal_ids.add(index)
        self.mentions.append(
            MentionSuggestion(code, char_start, char_end, self.text[char_start:char_end], self.nominal_score)
        )
        self.token_starts.append(span.start)
        self.token_ends.append(span.end)
        for i in range(span.start, span.end):
            self.by_token.setdefault(i, []).append(index)
        return [index]

    def _right_edge(self, head: Token) -> int:
        """Adjectives after the noun belong to the phrase too (French: "régimes militaires", "autorités
        nigériennes"); a name there ends it."""
        end = head.i + 1
        while end < len(self.doc) and self.doc[end].head.i == head.i and self.doc[end].dep_ == "amod":
            owners = self.by_token.get(end, [])
            if any(self.mentions[m].label not in NOMINAL_MODIFIER_LABELS for m in owners):
                break
            end = max([end + 1, *(self.token_ends[m] for m in owners)])
        return end

    def compact(self, used: set[int]) -> dict[int, int]:
        """Drop the nominal mentions no suggestion uses, put the rest back in text order; old → new index."""
        keep = [m for m in range(len(self.mentions)) if m not in self.nominal_ids or m in used]
        keep.sort(key=lambda m: (self.mentions[m].start, self.mentions[m].end, self.mentions[m].label))
        mapping = {old: new for new, old in enumerate(keep)}
        self.mentions = [self.mentions[m] for m in keep]
        self.token_starts = [self.token_starts[m] for m in keep]
        self.token_ends = [self.token_ends[m] for m in keep]
        self.by_token = {}
        for new in range(len(keep)):
            for i in range(self.token_starts[new], self.token_ends[new]):
                self.by_token.setdefault(i, []).append(new)
        self.nominal_ids = {mapping[m] for m in self.nominal_ids if m in mapping}
        return mapping

    def at(self, token_i: int) -> list[int]:
        """Mentions covering token `token_i`, the one this token heads first (inner GPE before outer FAC)."""
        found = self.by_token.get(token_i)
        if not found:
            return []
        if len(found) == 1:
            return found
        return sorted(found, key=lambda m: (self.token_ends[m] - self.token_starts[m], m))

    def in_token_range(self, start: int, end: int) -> list[int]:
        """Mentions lying entirely within tokens [start, end), in text order."""
        out: list[int] = []
        seen: set[int] = set()
        for i in range(start, end):
            for m in self.by_token.get(i, ()):
                if m not in seen and self.token_starts[m] >= start and self.token_ends[m] <= end:
                    seen.add(m)
                    out.append(m)
        out.sort()
        return out


def build_mentions(
    doc: Doc,
    text: str,
    new_spans: Sequence[Span],
    displaced: Sequence[Span],
    *,
    schema: SchemaView,
    actor_names: frozenset[str],
    keep_containers: frozenset[str],
    scores: dict[str, float],
) -> MentionIndex:
    """Map doc.ents (+ kept containers) to schema codes; unmapped labels are dropped, duplicates merged."""
    from_ruler = {(span.start, span.end) for span in new_spans}
    rows: list[tuple[int, int, str, int, int, str | None, float]] = []
    for ent in doc.ents:
        ruler = (ent.start, ent.end) in from_ruler
        code = schema.entity_code(ent.label_, from_rules=ruler)
        if code is None:
            continue
        actor = ent.ent_id_ if ruler and ent.ent_id_ in actor_names else None
        score = scores["gazetteer"] if actor else scores["entity_pattern"] if ruler else scores["model"]
        start, end = (ent.start, ent.end) if ruler else _trimmed(doc, ent.start, ent.end, code)
        span = doc[start:end]
        rows.append((span.start_char, span.end_char, code, start, end, actor, score))
    if displaced and keep_containers:
        starts = [span.start for span in new_spans]
        for ent in displaced:
            if ent.label_ not in keep_containers:
                continue
            code = schema.entity_code(ent.label_, from_rules=False)
            if code is None:
                continue
            lo = bisect.bisect_left(starts, ent.start)
            hi = bisect.bisect_left(starts, ent.end)
            inner = [new_spans[i] for i in range(max(lo - 1, 0), hi) if new_spans[i].end > ent.start]
            if (
                inner
                and all(
                    ent.start <= s.start
                    and s.end <= ent.end
                    and (s.start, s.end) != (ent.start, ent.end)
                    and s.label_ != ent.label_
                    for s in inner
                )
                and _adds_a_word(ent, inner)
            ):
                start, end = _trimmed(doc, ent.start, ent.end, code)
                span = doc[start:end]
                rows.append((span.start_char, span.end_char, code, start, end, None, scores["model"]))
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    mentions: list[MentionSuggestion] = []
    token_starts: list[int] = []
    token_ends: list[int] = []
    by_token: dict[int, list[int]] = {}
    seen: set[tuple[int, int, str]] = set()
    for start, end, code, tok_start, tok_end, actor, score in rows:
        if (start, end, code) in seen or start >= end or not text[start:end].strip() or "\n\n" in text[start:end]:
            continue  # never a mention across a blank line (a headline glued to the body by the model)
        seen.add((start, end, code))
        index = len(mentions)
        mentions.append(MentionSuggestion(code, start, end, text[start:end], score, actor))
        token_starts.append(tok_start)
        token_ends.append(tok_end)
        for i in range(tok_start, tok_end):
            by_token.setdefault(i, []).append(index)
    return MentionIndex(doc, mentions, token_starts, token_ends, by_token, text=text)


def _trimmed(doc: Doc, start: int, end: int, code: str) -> tuple[int, int]:
    """A model name without its article or a stray preposition: "the National Assembly (on)"."""
    if code in UNTRIMMED_LABELS:
        return start, end
    while end - start > 1 and (
        doc[start].lower_ in LEADING_DETERMINERS
        or (doc[start].text in LOWER_CASE_DETERMINERS and doc[start].pos_ in ("DET", "ADP"))
    ):
        start += 1
    while end - start > 1 and doc[end - 1].pos_ in ("ADP", "PUNCT", "CCONJ"):
        end -= 1
    return start, end


def _adds_a_word(container: Span, inner: Sequence[Span]) -> bool:
    """ "Niamey airport" adds a word to "Niamey"; "Burkina Faso's" or "the Sahel" do not."""
    covered = {i for span in inner for i in range(span.start, span.end)}
    return any(
        token.is_alpha and token.lower_ not in ("the", "a", "an") and token.tag_ != "POS"
        for token in container
        if token.i not in covered
    )
