"""Deterministic train/dev/test splits that keep near-duplicate articles together.

An article's split comes from a hash of its key (the content hash), so it never changes between
exports. Near-duplicates (the same story republished with small edits) must not straddle splits:
MinHash signatures over word 5-shingles, LSH banding to find candidate pairs without comparing
every pair, and union-find over pairs whose estimated Jaccard similarity reaches the threshold.
A cluster takes the split of its smallest content hash.

This catches copies and light edits, not rewrites: two outlets' own reports of the same visit
share few 5-word sequences (the seeds' 000 and 001 have a Jaccard similarity of 0.02).
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from annotations.exports.base import SPLITS, ExportOptionError

SHINGLE_WORDS = 5
NUM_PERM = 64
BANDS, ROWS = 16, 4  # (1/16) ** (1/4) = 0.5: pairs near the default threshold become candidates
NEAR_DUPLICATE_THRESHOLD = 0.5
# In a crowded LSH bucket only neighbours (in article order) are compared, not every pair.
MAX_BUCKET_PAIRS = 64
# Shingles hashed per numpy block: bounds the temporary (NUM_PERM x block) array.
_BLOCK = 4096

_WORD = re.compile(r"\w+")
_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)
# Hash family h_i(x) = (a_i * x + b_i) mod 2**64 with odd a_i; the minimum's top 32 bits are kept.
_A = np.array(
    [int.from_bytes(hashlib.sha256(f"minhash-a-{i}".encode()).digest()[:8], "big") | 1 for i in range(NUM_PERM)],
    dtype=np.uint64,
)[:, None]
_B = np.array(
    [int.from_bytes(hashlib.sha256(f"minhash-b-{i}".encode()).digest()[:8], "big") for i in range(NUM_PERM)],
    dtype=np.uint64,
)[:, None]
# Shingle hash = sum of word hashes times powers of an odd constant (mod 2**64), then mixed.
_POWERS = [np.uint64(pow(0x9E3779B97F4A7C15, SHINGLE_WORDS - 1 - i, 2**64)) for i in range(SHINGLE_WORDS)]
_EMPTY = np.empty(0, dtype=np.uint64)

assert BANDS * ROWS == NUM_PERM


# --- Ratios -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ratios:
    train: float
    dev: float
    test: float

    def __str__(self) -> str:
        return f"{self.train:g},{self.dev:g},{self.test:g}"


DEFAULT_RATIOS = Ratios(0.8, 0.1, 0.1)


def parse_ratios(value: str | Sequence[float] | Ratios) -> Ratios:
    """'0.8,0.1,0.1' (or three numbers): non-negative, summing to 1. Errors name `ratios`."""
    if isinstance(value, Ratios):
        parts: list[object] = [value.train, value.dev, value.test]
    elif isinstance(value, str):
        parts = [p.strip() for p in value.split(",")]
    else:
        parts = list(value)
    if len(parts) != 3:
        raise ExportOptionError("ratios", f"expected three numbers train,dev,test such as 0.8,0.1,0.1; got {value!r}")
    numbers: list[float] = []
    for name, part in zip(SPLITS, parts, strict=True):
        try:
            number = float(part)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ExportOptionError("ratios", f"the {name} ratio {part!r} is not a number") from None
        if not math.isfinite(number) or number < 0:
            raise ExportOptionError("ratios", f"the {name} ratio must be a number from 0 to 1, got {part!r}")
        numbers.append(number)
    if not math.isclose(sum(numbers), 1.0, abs_tol=1e-6):
        raise ExportOptionError("ratios", f"train, dev and test must add up to 1, they add up to {sum(numbers):g}")
    return Ratios(*numbers)


def split_for_key(key: str, ratios: Ratios) -> str:
    """The split of an article key: a uniform number in [0, 1) from its SHA-256, cut by the ratios."""
    point = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big") / 2**64
    if point < ratios.train:
        return "train"
    if point < ratios.train + ratios.dev:
        return "dev"
    return "test"


# --- MinHash ----------------------------------------------------------------------------------


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, element-wise on uint64 (multiplication wraps modulo 2**64)."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def shingles(text: str, k: int = SHINGLE_WORDS) -> set[tuple[str, ...]]:
    """The word k-shingles of a text (lower-cased \\w+ words); a short text is one shingle."""
    words = _WORD.findall(text.lower())
    if not words:
        return set()
    return {tuple(words[i : i + k]) for i in range(max(1, len(words) - k + 1))}


def jaccard(a: str, b: str) -> float:
    """Exact Jaccard similarity of two texts' shingle sets (what MinHash estimates)."""
    left, right = shingles(a), shingles(b)
    union = left | right
    return len(left & right) / len(union) if union else 0.0


# crc32 of each word seen, kept between articles: a corpus's vocabulary is far smaller than its
# word count, and looking words up in C (set difference, map) beats hashing each in Python.
_WORD_HASHES: dict[str, int] = {}
_WORD_HASHES_MAX = 1_000_000


def _word_hashes(words: list[str]) -> np.ndarray:
    missing = set(words).difference(_WORD_HASHES)
    if len(_WORD_HASHES) + len(missing) > _WORD_HASHES_MAX:
        _WORD_HASHES.clear()
        missing = set(words)
    _WORD_HASHES.update((word, zlib.crc32(word.encode("utf-8"))) for word in missing)
    return np.fromiter(map(_WORD_HASHES.__getitem__, words), dtype=np.uint64, count=len(words))


def shingle_hashes(text: str) -> np.ndarray:
    """64-bit hashes of the text's distinct word 5-shingles."""
    words = _WORD.findall(text.lower())
    if not words:
        return _EMPTY
    k = SHINGLE_WORDS
    word_hashes = _word_hashes(words)
    count = max(1, len(words) - k + 1)
    combined = np.zeros(count, dtype=np.uint64)
    for offset in range(min(k, len(words))):
        combined += word_hashes[offset : offset + count] * _POWERS[offset]
    combined = _mix(combined)
    return np.unique(combined)


def signature(text: str) -> np.ndarray:
    """A MinHash signature: NUM_PERM uint32 values (top halves of 64-bit minima).

    A text without words gets a signature drawn from its own bytes, so it matches nothing else.
    """
    hashes = shingle_hashes(text)
    if hashes.size == 0:
        digest = hashlib.sha512(text.encode("utf-8")).digest() * 2
        return np.frombuffer(digest[: NUM_PERM * 4], dtype=np.uint32).copy()
    minima = np.full(NUM_PERM, _MASK, dtype=np.uint64)
    for start in range(0, hashes.size, _BLOCK):
        block = _A * hashes[None, start : start + _BLOCK]
        block += _B  # in place: a second temporary of this size costs more than the arithmetic
        np.minimum(minima, block.min(axis=1), out=minima)
    return (minima >> np.uint64(32)).astype(np.uint32)


def estimated_jaccard(left: np.ndarray, right: np.ndarray) -> float:
    return float(np.count_nonzero(left == right)) / NUM_PERM


# --- Clustering -------------------------------------------------------------------------------


class _UnionFind:
    def __init__(self, size: int):
        self.parent = list(range(size))

    def find(self, item: int) -> int:
        root = item
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[item] != root:
            self.parent[item], item = root, self.parent[item]
        return root

    def union(self, left: int, right: int) -> None:
        a, b = self.find(left), self.find(right)
        if a != b:
            self.parent[max(a, b)] = min(a, b)


def _band_keys(signatures: np.ndarray, band: int) -> np.ndarray:
    rows = signatures[:, band * ROWS : (band + 1) * ROWS].astype(np.uint64)
    key = np.full(rows.shape[0], np.uint64(band), dtype=np.uint64)
    for column in range(ROWS):
        key = _mix(key ^ rows[:, column])
    return key


def cluster_labels(signatures: np.ndarray, threshold: float = NEAR_DUPLICATE_THRESHOLD) -> list[int]:
    """For each row of an (n, NUM_PERM) signature matrix, the smallest row index of its cluster.

    Candidate pairs share at least one LSH band; a pair is joined when its estimated Jaccard
    similarity reaches `threshold`. Joining is transitive (A~B and B~C put A, B, C together).
    """
    count = signatures.shape[0]
    clusters = _UnionFind(count)
    for band in range(BANDS):
        keys = _band_keys(signatures, band)
        order = np.argsort(keys, kind="stable")
        ordered = keys[order]
        edges = np.flatnonzero(ordered[1:] != ordered[:-1]) + 1
        for bucket in np.split(order, edges):
            if bucket.size < 2:
                continue
            members = sorted(int(i) for i in bucket)
            if len(members) * (len(members) - 1) // 2 <= MAX_BUCKET_PAIRS:
                pairs = [(a, b) for n, a in enumerate(members) for b in members[n + 1 :]]
            else:
                pairs = list(itertools.pairwise(members))
            for a, b in pairs:
                if clusters.find(a) == clusters.find(b):
                    continue
                if estimated_jaccard(signatures[a], signatures[b]) >= threshold:
                    clusters.union(a, b)
    return [clusters.find(i) for i in range(count)]


def assign_splits(
    articles: Iterable[tuple[int, str, str]],
    ratios: Ratios,
    *,
    threshold: float = NEAR_DUPLICATE_THRESHOLD,
) -> dict[int, str]:
    """Article id → split, for (id, content hash, text) rows; near-duplicates share a split."""
    ids: list[int] = []
    keys: list[str] = []
    rows: list[np.ndarray] = []
    for article_id, key, text in articles:
        ids.append(article_id)
        keys.append(key)
        rows.append(signature(text))
    if not ids:
        return {}
    labels = cluster_labels(np.vstack(rows), threshold)
    smallest: dict[int, str] = {}
    for label, key in zip(labels, keys, strict=True):
        if label not in smallest or key < smallest[label]:
            smallest[label] = key
    split_of_cluster = {label: split_for_key(key, ratios) for label, key in smallest.items()}
    return {article_id: split_of_cluster[label] for article_id, label in zip(ids, labels, strict=True)}


def near_duplicate_groups(
    articles: Iterable[tuple[str, str]], *, threshold: float = NEAR_DUPLICATE_THRESHOLD
) -> list[list[str]]:
    """The clusters of more than one article among (key, text) pairs, each sorted, in key order."""
    pairs = list(articles)
    if not pairs:
        return []
    labels = cluster_labels(np.vstack([signature(text) for _, text in pairs]), threshold)
    groups: dict[int, list[str]] = {}
    for label, (key, _) in zip(labels, pairs, strict=True):
        groups.setdefault(label, []).append(key)
    return sorted(sorted(group) for group in groups.values() if len(group) > 1)
