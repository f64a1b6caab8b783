"""Entity token patterns (WEAPON, QUANTITY, DATE…) matched only in short windows around their anchor words.

Each pattern needs a required token whose LEMMA is given (the head noun: "system", "helicopter",
"soldier", "juillet"): the last such token is the anchor; the tokens after it (a year after the month:
"10 avril 2023") are its tail. An anchor word runs only the patterns anchored on its lemma, over a few
tokens before and after it: the same spans as the Matcher over the whole article, at a fraction of the
cost (the French rules have a dozen patterns with long word lists; running all of them around every
anchor cost as much as the rest of the rules together).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from spacy.attrs import LEMMA
from spacy.matcher import Matcher
from spacy.tokens import Doc
from spacy.vocab import Vocab

from annotations.nlp.docview import is_member


def _unbounded(nodes: Sequence[dict[str, Any]]) -> int:
    return sum(1 for node in nodes if node.get("OP") in ("*", "+"))


class WindowPatterns:
    def __init__(self, vocab: Vocab, patterns: Sequence[dict[str, Any]]):
        self.matchers: list[Matcher] = []
        self.by_anchor: dict[int, list[int]] = {}
        self.before = self.tail = 0
        strings = vocab.strings
        for entry in patterns:
            pattern = entry["pattern"]
            required = [i for i, n in enumerate(pattern) if n.get("LEMMA") is not None and n.get("OP") in (None, "1")]
            if not required:
                raise ValueError(f"entity pattern {entry!r}: needs a required LEMMA test (the anchor)")
            at = required[-1]
            lemma = pattern[at]["LEMMA"]
            before, tail = pattern[: at + 1], pattern[at + 1 :]
            self.before = max(self.before, len(before) + 3 * _unbounded(before))
            self.tail = max(self.tail, len(tail) + 3 * _unbounded(tail))
            matcher = Matcher(vocab, validate=True)
            matcher.add(entry["label"], [pattern])
            for anchor in lemma["IN"] if isinstance(lemma, dict) else [lemma]:
                self.by_anchor.setdefault(strings.add(anchor), []).append(len(self.matchers))
            self.matchers.append(matcher)
        self.anchors = np.array(sorted(self.by_anchor), dtype=np.uint64)

    def __bool__(self) -> bool:
        return bool(self.matchers)

    def match(self, doc: Doc) -> set[tuple[int, int, int]]:
        """(label hash, start, end) of every pattern match."""
        found: set[tuple[int, int, int]] = set()
        if not self.matchers or not len(doc):
            return found
        lemmas = doc.to_array(LEMMA)
        for anchor in np.flatnonzero(is_member(lemmas, self.anchors)).tolist():
            low = max(0, anchor - self.before)
            window = doc[low : anchor + 1 + self.tail]
            for k in self.by_anchor[int(lemmas[anchor])]:
                for m_id, start, end in self.matchers[k](window):
                    found.add((m_id, low + start, low + end))
        return found
