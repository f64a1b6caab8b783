"""Per-document arrays computed once (one C call) and shared by the rules: lemmas, lower forms and
sentence starts. Token-by-token Python loops and spaCy's `Span.sent` (which rescans the whole document
on every call) are avoided; look-ups are vectorised (numpy) or bisections.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable

import numpy as np
from spacy.attrs import LEMMA, LOWER, SENT_START
from spacy.strings import StringStore
from spacy.tokens import Doc


class DocView:
    def __init__(self, doc: Doc, text: str):
        self.doc = doc
        self.text = text  # doc.text would re-join every token on each access
        self.length = len(doc)
        if self.length:
            columns = doc.to_array([LEMMA, LOWER, SENT_START])
            self.lemma = columns[:, 0]
            self.lower = columns[:, 1]
            starts = np.flatnonzero(columns[:, 2] == 1).tolist()
        else:
            self.lemma = self.lower = np.zeros(0, dtype=np.uint64)
            starts = []
        if not starts or starts[0] != 0:
            starts.insert(0, 0)
        self.sentence_starts: list[int] = starts

    def sentence(self, i: int) -> tuple[int, int]:
        """Token bounds [start, end) of the sentence holding token i."""
        k = bisect.bisect_right(self.sentence_starts, i) - 1
        end = self.sentence_starts[k + 1] if k + 1 < len(self.sentence_starts) else self.length
        return self.sentence_starts[k], end

    def is_question(self, start: int, end: int) -> bool:
        doc = self.doc
        i = end - 1
        while i >= start and doc[i].is_space:
            i -= 1
        return i >= start and doc[i].text == "?"

    def positions(self, hashes: np.ndarray, *, lemma: bool = True, lower: bool = False) -> np.ndarray:
        """Token indices whose lemma (and/or lower form) is one of `hashes`, ascending."""
        if not self.length or not len(hashes):
            return np.zeros(0, dtype=np.int64)
        mask = np.zeros(self.length, dtype=bool)
        if lemma:
            mask |= is_member(self.lemma, hashes)
        if lower:
            mask |= is_member(self.lower, hashes)
        return np.flatnonzero(mask)


def is_member(values: np.ndarray, sorted_hashes: np.ndarray) -> np.ndarray:
    """values ∈ sorted_hashes, elementwise (a binary search each; no sort of `values` as np.isin does)."""
    if not len(sorted_hashes):
        return np.zeros(len(values), dtype=bool)
    at = np.searchsorted(sorted_hashes, values)
    np.minimum(at, len(sorted_hashes) - 1, out=at)
    return sorted_hashes[at] == values


def hash_array(strings: StringStore, words: Iterable[str]) -> np.ndarray:
    """Hashes of `words` as a sorted uint64 array (adds them to the StringStore)."""
    return np.array(sorted({strings.add(w) for w in words}), dtype=np.uint64)
