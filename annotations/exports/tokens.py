"""Tokens and sentences of an exported article, and where its mentions and triggers fall on them.

Every token-based format (spaCy, CoNLL, DyGIE++, Hugging Face) reads this one alignment, so they
agree on tokens, sentence breaks and which mentions become non-overlapping entities.

- Tokens: spaCy's tokenizer for the article's language (`spacy.blank("en")`, `spacy.blank("fr")`:
  the rules the trained models of that language use; "l’armée" is two French tokens), so nothing
  has to be downloaded; a language spaCy has no rules for (`und`) gets the English ones.
  White-space tokens stay in the spaCy Doc but are not *words*: the column and list formats drop them.
- Sentences: the rule-based sentencizer, plus a break after every line break (titles and
  datelines have no full stop), minus any break that would cut a mention or a trigger.
- Spans: a character span is trimmed of white space and widened to whole tokens
  (`doc.char_span(..., alignment_mode="expand")`).
- Entities: the non-overlapping subset of the mentions, by the export's `overlap` rule:
  `longest` (default: longer first, then earlier, the rule of `spacy.util.filter_spans`), `first`
  (earlier first, then longer) or `label-priority` (the entity type earlier in the schema first,
  then longer, then earlier). On the same tokens the first mention in export order wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import spacy
from spacy.attrs import IDX, IS_SPACE, LENGTH, SENT_START
from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import get_lang_class

from annotations.exports.base import ExportDocument, WriterContext


def tokenizer_language(language: str) -> str:
    """The spaCy language whose tokenizer reads an article in `language` ("fr-FR" → "fr"; "und" → "en")."""
    code = (language or "").split("-")[0].lower()
    try:
        get_lang_class(code)
    except ImportError:
        return "en"
    return code


@cache
def segmenter(language: str = "en") -> Language:
    """Blank tokenizer of `language` (see `tokenizer_language`) + sentencizer, built once per process."""
    nlp = spacy.blank(tokenizer_language(language))
    nlp.add_pipe("sentencizer")
    return nlp


def trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """[start, end) without leading or trailing white space (unchanged if that would empty it)."""
    left, right = start, end
    while left < right and text[left].isspace():
        left += 1
    while right > left and text[right - 1].isspace():
        right -= 1
    return (left, right) if left < right else (start, end)


@dataclass
class AlignedDocument:
    """An export document on spaCy tokens. Token ranges are [start, end) over `doc`."""

    document: ExportDocument
    doc: Doc
    mention_tokens: dict[str, tuple[int, int]]
    trigger_tokens: dict[str, tuple[int, int]]
    entities: list[str]
    words: list[str] = field(default_factory=list)
    # doc token index → word index (-1 for a white-space token)
    word_of_token: list[int] = field(default_factory=list)
    # word ranges [start, end) of the sentences, none empty
    sentences: list[tuple[int, int]] = field(default_factory=list)
    sentence_of_word: list[int] = field(default_factory=list)
    # mentions and triggers that cover no token (white space only)
    unaligned_mentions: int = 0
    unaligned_triggers: int = 0

    def word_span(self, tokens: tuple[int, int]) -> tuple[int, int] | None:
        """Inclusive word range [first, last] of a token range, or None if it has no words."""
        indices = [self.word_of_token[i] for i in range(*tokens) if self.word_of_token[i] >= 0]
        return (indices[0], indices[-1]) if indices else None

    def mention_words(self, mention_id: str) -> tuple[int, int] | None:
        tokens = self.mention_tokens.get(mention_id)
        return self.word_span(tokens) if tokens else None

    def trigger_words(self, event_id: str) -> tuple[int, int] | None:
        tokens = self.trigger_tokens.get(event_id)
        return self.word_span(tokens) if tokens else None

    def iob_tags(self) -> list[str]:
        """IOB2 tags over the words, from the non-overlapping entities."""
        tags = ["O"] * len(self.words)
        labels = {m["id"]: m["label"] for m in self.document["mentions"]}
        for mention_id in self.entities:
            span = self.mention_words(mention_id)
            if span is None:
                continue
            first, last = span
            tags[first] = f"B-{labels[mention_id]}"
            for i in range(first + 1, last + 1):
                tags[i] = f"I-{labels[mention_id]}"
        return tags


def non_overlapping(
    spans: list[tuple[str, int, int]], rule: str = "longest", priority: Mapping[str, int] | None = None
) -> list[str]:
    """Ids of the spans kept by the overlap rule, in text order; (id, start, end) in token space.

    `priority` ranks span ids for `label-priority` (lower first; missing ones last). The sort is
    stable, so on equal keys the span given first wins.
    """
    if rule == "first":

        def order(s: tuple[str, int, int]) -> tuple[int, ...]:
            return (s[1], s[1] - s[2])
    elif rule == "label-priority":
        ranks = priority or {}

        def order(s: tuple[str, int, int]) -> tuple[int, ...]:
            return (ranks.get(s[0], len(ranks)), s[1] - s[2], s[1])
    else:

        def order(s: tuple[str, int, int]) -> tuple[int, ...]:
            return (s[1] - s[2], s[1])

    chosen: list[tuple[str, int, int]] = []
    taken: set[int] = set()
    for span_id, start, end in sorted(spans, key=order):
        if taken.isdisjoint(range(start, end)):
            chosen.append((span_id, start, end))
            taken.update(range(start, end))
    return [span_id for span_id, _, _ in sorted(chosen, key=lambda s: (s[1], s[2]))]


# What the manifest says of the mentions each rule leaves out of a single-layer format.
OVERLAP_REASONS = {
    "longest": "overlapped a longer one (kept the longer)",
    "first": "overlapped an earlier one (kept the earlier)",
    "label-priority": "overlapped one whose entity type comes first in the schema (kept that one)",
}


def _token_range(doc: Doc, text: str, start: int, end: int) -> tuple[int, int] | None:
    left, right = trimmed(text, start, end)
    span = doc.char_span(left, right, alignment_mode="expand")
    return (span.start, span.end) if span is not None and len(span) else None


def align(
    document: ExportDocument, doc: Doc, overlap: str = "longest", label_rank: Mapping[str, int] | None = None
) -> AlignedDocument:
    """Align one document on its tokenised, sentence-split Doc (see the module docstring).

    Works on token attribute arrays rather than Token objects: a Token is built per access.
    """
    text = document["text"]
    mention_tokens: dict[str, tuple[int, int]] = {}
    for mention in document["mentions"]:
        tokens = _token_range(doc, text, mention["start"], mention["end"])
        if tokens is not None:
            mention_tokens[mention["id"]] = tokens
    trigger_tokens: dict[str, tuple[int, int]] = {}
    for event in document["events"]:
        tokens = _token_range(doc, text, event["trigger"]["start"], event["trigger"]["end"])
        if tokens is not None:
            trigger_tokens[event["id"]] = tokens

    columns = doc.to_array([IS_SPACE, SENT_START, IDX, LENGTH]).view(np.int64)
    is_space = columns[:, 0].astype(bool).tolist()
    offsets = columns[:, 2].tolist()
    lengths = columns[:, 3].tolist()
    starts = columns[:, 1].copy()
    # Sentence breaks: after line breaks, but never inside a mention or a trigger.
    for i in range(1, len(doc)):
        if is_space[i - 1] and not is_space[i] and "\n" in text[offsets[i - 1] : offsets[i - 1] + lengths[i - 1]]:
            starts[i] = 1
    for start, end in [*mention_tokens.values(), *trigger_tokens.values()]:
        starts[start + 1 : end] = -1
    if len(doc):
        starts[0] = 1
        # spaCy types the array as thinc's Ints2d; a plain integer ndarray is what it takes at run time.
        doc.from_array([SENT_START], starts.view(np.uint64))  # type: ignore[arg-type]

    aligned = AlignedDocument(
        document=document,
        doc=doc,
        mention_tokens=mention_tokens,
        trigger_tokens=trigger_tokens,
        entities=non_overlapping(
            [(m, s, e) for m, (s, e) in mention_tokens.items()],
            overlap,
            {m["id"]: (label_rank or {}).get(m["label"], len(label_rank or {})) for m in document["mentions"]}
            if overlap == "label-priority"
            else None,
        ),
        unaligned_mentions=len(document["mentions"]) - len(mention_tokens),
        unaligned_triggers=len(document["events"]) - len(trigger_tokens),
    )
    word_of_token = [-1] * len(doc)
    sentence_first = 0
    for i, (space, start) in enumerate(zip(is_space, starts.tolist(), strict=True)):
        if start == 1 and len(aligned.words) > sentence_first:
            aligned.sentences.append((sentence_first, len(aligned.words)))
            sentence_first = len(aligned.words)
        if not space:
            word_of_token[i] = len(aligned.words)
            aligned.sentence_of_word.append(len(aligned.sentences))
            aligned.words.append(text[offsets[i] : offsets[i] + lengths[i]])
    if len(aligned.words) > sentence_first:
        aligned.sentences.append((sentence_first, len(aligned.words)))
    aligned.word_of_token = word_of_token
    return aligned


def aligned_documents(
    documents: Iterable[ExportDocument], context: WriterContext | None = None, entities: str = ""
) -> Iterator[AlignedDocument]:
    """Tokenise and align documents lazily, one at a time, by the context's overlap rule.

    With `entities` (where the format puts its non-overlapping entities, e.g. "doc.ents"), the
    mentions left out of them and those covering no token are counted in the context's notes.
    """
    overlap = context.overlap if context is not None else "longest"
    rank = {label: i for i, label in enumerate(context.entity_labels)} if context is not None else None
    overlapped = unaligned = 0
    for document in documents:
        nlp = segmenter(tokenizer_language(document.get("language") or "en"))
        doc = nlp.get_pipe("sentencizer")(nlp.tokenizer(document["text"]))
        aligned = align(document, doc, overlap, rank)
        overlapped += len(aligned.mention_tokens) - len(aligned.entities)
        unaligned += aligned.unaligned_mentions
        yield aligned
    if context is not None and entities:
        context.notes.add("mentions", overlapped, f"{OVERLAP_REASONS[overlap]}: left out of {entities}")
        context.notes.add("mentions", unaligned, f"cover no token: left out of {entities}")
