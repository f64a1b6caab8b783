"""Stories: reports of the same event by different outlets, grouped at import.

Near-duplicate articles must fall in the same train/dev/test split, or the test set leaks into
training. Copies are easy; rewrites are not: the seeds' 000, 001 and 004 report the same visit in
their own words and share almost no 5-word sequence. What they do share are **content-word
bigrams** — names and distinctive phrases ("bek yevkurov", "russian delegation", "delegation led")
— once stop words and words of one or two characters are dropped. Different stories on the same
topic share generic ones ("military cooperation", "wagner group"), and fewer of them.

Similarity is the **containment** of the smaller text's bigram set in the other's,
|A ∩ B| / min(|A|, |B|), so a short report of a long one still counts. On the seeds:

    same story   000–001 0.128 (23 shared)   001–004 0.153 (30)   000–004 0.112 (20)
    other pairs  ≤ 0.064 (002–004, 14 shared; every other pair ≤ 0.045)

Two articles are the same story when the containment reaches 0.09 — midway between 0.064 and
0.112 — *and* they share at least 8 bigrams: a short text would otherwise join a story on a few
topic phrases (a one-line "Niger and Russia met in Niamey" shares "niger russia" with three
seeds). Stories are transitive: an article similar to two stories merges them.

Finding candidates without comparing every pair: each article keeps a sample of its bigrams, its
**anchors** — those with the smallest hashes, a quarter of them (ANCHOR_RATE, clamped to
ANCHORS_MIN..ANCHORS_MAX). The hash decides, not the article, so two articles sharing I bigrams
share about I/4 anchors whatever their lengths (the seed pairs share 3, 4 and 7). Anchors are
stored per article (`ArticleAnchor`) and looked up by hash. Each shared anchor weighs 1 / the
number of articles holding it: a rare anchor is a lead, a topic phrase held by many is not. An
anchor held by BUCKET_CAP articles is not stored again (that bounds the table and the look-ups)
but still leads to its first holders, so the 17th copy of a wire story finds the first 16.
Articles whose leads weigh MIN_WEIGHT or more are verified exactly, at most MAX_VERIFIED per
article, heaviest first: the containment of their stored `story_bigrams` (32-bit hashes).

An article's `story_key` is the content hash of the first article imported into its story. When
two stories merge, the older one (smallest article id) keeps its key and the other's articles
take it: a later import can therefore move an earlier article to another split. Dataset versions
are stored files with checksums, so exports already made are unaffected.

A batch is grouped exactly as if its articles were imported one at a time, in order.

The stored anchors and `story_bigrams` are hashes: a change to how words or bigrams are found or
hashed needs a data migration that clears them and runs `story_keys_backfill` again.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db import connections
from django.db.models import Case, F, Min, Value, When

STORY_THRESHOLD = 0.09  # containment |A ∩ B| / min(|A|, |B|) of content-word bigrams
MIN_SHARED = 8  # and at least this many shared bigrams
ANCHOR_RATE = 0.25
ANCHORS_MIN, ANCHORS_MAX = 16, 200
BUCKET_CAP = 16
MIN_WEIGHT = 0.5  # a candidate's shared anchors, each weighing 1 / its holders, add up to this
MAX_VERIFIED = 32
# Story keys looked up with IN (...) at a time (fewer where the database limits parameters).
LOOKUP_CHUNK = 5000

_WORD = re.compile(r"\w+")
_EMPTY = np.empty(0, dtype=np.int64)
_PAIR_FACTOR = np.uint64(0x9E3779B97F4A7C15)


@functools.cache
def stop_words() -> frozenset[str]:
    """spaCy's English stop words (imported on first use: spaCy is slow to import)."""
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


def content_words(text: str) -> list[str]:
    """Lower-cased \\w+ words without stop words and words of one or two characters.

    The readable form of the words `bigrams` pairs (it finds the same words with numpy).
    """
    stop = stop_words()
    return [w for w in _WORD.findall(text.lower()) if len(w) > 2 and w not in stop]


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, element-wise on uint64 (multiplication wraps modulo 2**64)."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


@functools.cache
def _word_characters() -> np.ndarray:
    """For every code point, whether \\w matches it (str.isalnum() or "_"); built once, 1.1 MB."""
    return np.fromiter((chr(i).isalnum() or i == 0x5F for i in range(0x110000)), dtype=bool, count=0x110000)


class _Powers:
    """P**i and P**-i modulo 2**64 for i < size, grown on demand (P is odd, so it has an inverse)."""

    P = 0x100000001B3  # the FNV-1 prime

    def __init__(self) -> None:
        self.tables = (np.ones(1, dtype=np.uint64), np.ones(1, dtype=np.uint64))

    def upto(self, size: int) -> tuple[np.ndarray, np.ndarray]:
        tables = self.tables  # one attribute, replaced whole: safe to read while another thread grows it
        if tables[0].size < size:
            grown = max(size, 2 * tables[0].size, 1 << 16)
            with np.errstate(over="ignore"):
                up = np.full(grown, self.P, dtype=np.uint64)
                up[0] = 1
                down = np.full(grown, pow(self.P, -1, 2**64), dtype=np.uint64)
                down[0] = 1
                tables = self.tables = (np.cumprod(up), np.cumprod(down))
        return tables


_POWERS = _Powers()


def _word_hashes(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """A 64-bit hash of each \\w+ word longer than two characters of the lower-cased texts, in
    order, and the index of the text each is in.

    A word's hash is a polynomial over its code points, taken from prefix sums so that no
    Python code runs per word: this is most of an import's CPU time. It doesn't depend on where
    the word is, so the texts are hashed in one pass, joined by a line break (not a word
    character: no word spans two texts).
    """
    lowered = [text.lower() for text in texts]
    points = np.frombuffer("\n".join(lowered).encode("utf-32-le"), dtype=np.uint32)
    word = np.zeros(points.size + 2, dtype=bool)
    word[1:-1] = _word_characters()[points]
    edges = np.flatnonzero(word[1:] != word[:-1])
    starts, ends = edges[0::2], edges[1::2]
    long = ends - starts > 2
    starts, ends = starts[long], ends[long]
    up, down = _POWERS.upto(points.size + 1)
    prefix = np.zeros(points.size + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        np.cumsum(points * up[: points.size], out=prefix[1:])
        hashes = (prefix[ends] - prefix[starts]) * down[starts] + (ends - starts).astype(np.uint64)
    text_ends = np.cumsum([len(text) + 1 for text in lowered])
    return hashes, np.searchsorted(text_ends, starts, side="right")


def _words(text: str) -> np.ndarray:
    """The hashes of the text's words (see `_word_hashes`)."""
    return _word_hashes([text])[0]


@functools.cache
def _stop_table() -> tuple[np.ndarray, np.ndarray, np.uint64]:
    """The stop words' hashes in a table of 2**16 slots without collisions: (slot → hash,
    slot → taken, multiplier). A word is a stop word when its slot holds its hash: two
    look-ups per word instead of a binary search of the ~330 stop words."""
    stop = np.unique(_words(" ".join(sorted(stop_words()))))
    for multiplier in range(0x9E3779B97F4A7C15, 2**64, 2**40):  # odd: a different spread each try
        factor = np.uint64(multiplier)
        with np.errstate(over="ignore"):
            slots = (stop * factor) >> np.uint64(48)
        if np.unique(slots).size == stop.size:
            table, taken = np.zeros(1 << 16, dtype=np.uint64), np.zeros(1 << 16, dtype=bool)
            table[slots], taken[slots] = stop, True
            return table, taken, factor
    raise AssertionError("no multiplier spreads the stop words")  # pragma: no cover


def _content(hashes: np.ndarray) -> np.ndarray:
    """Whether each word hash is not a stop word's."""
    table, taken, factor = _stop_table()
    with np.errstate(over="ignore"):
        slots = (hashes * factor) >> np.uint64(48)
    return ~taken[slots] | (table[slots] != hashes)


def bigrams(text: str) -> np.ndarray:
    """The text's distinct content-word bigrams as sorted, non-negative 63-bit hashes (int64).

    A bigram is two adjacent words of `content_words(text)`.
    """
    return bigram_sets([text])[0]


# Characters hashed in one pass by `bigram_sets`: its arrays take ~50 bytes per character.
PASS_CHARS = 1 << 20


def bigram_sets(texts: Sequence[str]) -> list[np.ndarray]:
    """`bigrams` of each text, a pass of numpy operations per PASS_CHARS characters, not per text."""
    found: list[np.ndarray] = []
    start = 0
    while start < len(texts):
        end, size = start + 1, len(texts[start])
        while end < len(texts) and size + len(texts[end]) <= PASS_CHARS:
            size += len(texts[end])
            end += 1
        found += _bigram_sets(texts[start:end])
        start = end
    return found


def _bigram_sets(texts: Sequence[str]) -> list[np.ndarray]:
    hashes, owner = _word_hashes(texts)
    content = _content(hashes)
    hashes, owner = hashes[content], owner[content]
    with np.errstate(over="ignore"):
        pairs = (_mix(hashes[:-1] * _PAIR_FACTOR + hashes[1:]) >> np.uint64(1)).view(np.int64)
    within = owner[:-1] == owner[1:]  # two words of the same text
    pairs, owner = pairs[within], owner[:-1][within]
    bounds = np.searchsorted(owner, np.arange(len(texts) + 1)).tolist()
    found = []
    for start, end in itertools.pairwise(bounds):
        if start == end:
            found.append(_EMPTY)
            continue
        text_pairs = np.sort(pairs[start:end])
        found.append(text_pairs[np.concatenate(([True], text_pairs[1:] != text_pairs[:-1]))])
    return found


def anchors(pairs: np.ndarray) -> np.ndarray:
    """The sample of bigram hashes an article is found by: the smallest quarter (clamped)."""
    count = min(pairs.size, max(ANCHORS_MIN, min(ANCHORS_MAX, math.ceil(pairs.size * ANCHOR_RATE))))
    return pairs[:count]  # `pairs` is sorted


def fingerprint(pairs: np.ndarray) -> np.ndarray:
    """The bigram hashes cut to 32 bits (sorted, distinct): what is stored and compared.

    At a few hundred bigrams per article, a 32-bit collision changes a count about once in
    ten thousand comparisons.
    """
    top = (pairs >> 31).astype(np.uint32)  # `pairs` is sorted, so `top` is too
    return top[np.concatenate(([True], top[1:] != top[:-1]))] if top.size else top


def _distinct(values: np.ndarray) -> np.ndarray:
    """The values sorted, each once."""
    values = np.sort(values)
    return values[np.concatenate(([True], values[1:] != values[:-1]))] if values.size else values


def shared(left: np.ndarray, right: np.ndarray) -> int:
    """How many values two sorted arrays of distinct values have in common."""
    if left.size > right.size:
        left, right = right, left
    if left.size == 0:
        return 0
    found = np.searchsorted(right, left)
    found[found == right.size] = 0
    return int(np.count_nonzero(right[found] == left))


def containment(left: np.ndarray, right: np.ndarray) -> float:
    smaller = min(left.size, right.size)
    return shared(left, right) / smaller if smaller else 0.0


def same_story(left: np.ndarray, right: np.ndarray) -> bool:
    """Whether two bigram sets (from `bigrams` or `fingerprint`) are reports of the same story."""
    common = shared(left, right)
    return common >= MIN_SHARED and common >= STORY_THRESHOLD * min(left.size, right.size)


def similarity(a: str, b: str) -> tuple[float, int]:
    """(containment, shared bigrams) of two texts, for reports and threshold checks."""
    left, right = bigrams(a), bigrams(b)
    return containment(left, right), shared(left, right)


# --- Grouping a batch -------------------------------------------------------------------------


class StoryStore:
    """What grouping needs to know about the project's stored articles (see `DatabaseStories`)."""

    def buckets(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The stored articles holding any of the anchor `hashes` (sorted, distinct): each
        (hash, article id) as two int64 arrays, sorted by hash."""
        raise NotImplementedError

    def articles(self, ids: Sequence[int]) -> dict[int, tuple[str, bytes]]:
        """Article id → (story key, fingerprint bytes or a buffer of them)."""
        raise NotImplementedError

    def oldest_member(self, keys: Sequence[str]) -> dict[str, int]:
        """Story key → smallest article id holding it."""
        raise NotImplementedError


# A story while grouping: ("db", its key) if stored, ("new", position) for one a batch article starts.
Story = tuple[str, Any]


@dataclass
class StoryPlan:
    """The outcome of grouping a batch: per article its story key, fingerprint and anchors."""

    keys: list[str]
    fingerprints: list[bytes]
    anchors: list[np.ndarray]
    # stored story key → the key its articles take (stories the batch merged into older ones)
    renamed: dict[str, str] = field(default_factory=dict)


class _Stories:
    """Union-find over stories; which root is kept doesn't matter, the oldest is named at the end."""

    def __init__(self) -> None:
        self.parent: dict[Story, Story] = {}

    def find(self, story: Story) -> Story:
        root = story
        while (parent := self.parent.get(root, root)) != root:
            root = parent
        while (parent := self.parent.get(story, story)) != root:
            self.parent[story], story = root, parent
        return root

    def union(self, left: Story, right: Story) -> None:
        a, b = self.find(left), self.find(right)
        if a != b:
            self.parent[b] = a

    def merged(self) -> list[list[Story]]:
        """Every set of two or more stories."""
        sets: dict[Story, list[Story]] = {}
        for story in {*self.parent, *self.parent.values()}:
            sets.setdefault(self.find(story), []).append(story)
        return list(sets.values())


# An article that came before is coded by its id if stored, by _NEW + its position if earlier in
# the batch: codes order them as their ids will (stored ones first, then the batch in order).
_NEW = 1 << 62
# Lead weights are integers (1 / holders in units of 1/_UNIT), so sums don't depend on their order.
_UNIT = 1 << 20


def _expand(starts: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For ranges (start, count): the index of each range per element, and the elements."""
    owner = np.repeat(np.arange(counts.size), counts)
    offsets = np.arange(owner.size) - np.repeat(np.cumsum(counts) - counts, counts)
    return owner, starts[owner] + offsets


def _lead_sums(article: np.ndarray, member: np.ndarray, weight: np.ndarray, count: int) -> tuple[np.ndarray, ...]:
    """(article, member, summed weight) once per pair, the pairs sorted by article.

    The pair and its weight are packed in one int64 and sorted as such (a third of `lexsort`'s
    time and no reordering of three arrays) where they fit, which they do while article ids stay
    below ~2**30 / the batch size; otherwise `lexsort`.
    """
    stored = member < _NEW
    top = int(member[stored].max()) + 1 if stored.any() else 0  # batch members are coded after it
    span = top + count
    if article.size and span * count < 1 << 41:
        packed = np.sort(((article * span + np.where(stored, member, member - _NEW + top)) << 21) | weight)
        pair, weight = packed >> 21, packed & ((1 << 21) - 1)  # weights are at most _UNIT = 2**20
        starts = np.flatnonzero(np.concatenate(([True], pair[1:] != pair[:-1])))
        article, member = np.divmod(pair[starts], span)
        return article, np.where(member < top, member, member - top + _NEW), np.add.reduceat(weight, starts)
    order = np.lexsort((member, article))
    article, member, weight = article[order], member[order], weight[order]
    if article.size:
        starts = np.flatnonzero(np.concatenate(([True], (article[1:] != article[:-1]) | (member[1:] != member[:-1]))))
        article, member, weight = article[starts], member[starts], np.add.reduceat(weight, starts)
    return article, member, weight


def _candidates(
    held: list[np.ndarray], stored: tuple[np.ndarray, np.ndarray]
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per article: the anchors it keeps, and the codes of the earlier articles most likely of its story.

    An anchor leads to the articles before this one that hold it (stored, then earlier in the
    batch), each lead weighing 1 / their number: a rare anchor says more than a topic phrase.
    Once BUCKET_CAP articles hold an anchor it is not stored again, but still leads to its
    first holders (the 17th copy of a wire story finds the first 16). Articles whose leads
    weigh MIN_WEIGHT or more are candidates, heaviest first, at most MAX_VERIFIED.

    Computed for the whole batch at once with numpy, as if its articles came one at a time.
    """
    count = len(held)
    stored_hashes, stored_ids = stored
    values = np.concatenate(held) if held else _EMPTY
    positions = np.repeat(np.arange(count), [sample.size for sample in held])
    order = np.argsort(values, kind="stable")  # holders of a value in batch order
    values, positions = values[order], positions[order]
    first = np.concatenate(([True], values[1:] != values[:-1])) if values.size else np.empty(0, dtype=bool)
    group = np.cumsum(first) - 1
    group_start = np.flatnonzero(first)
    rank = np.arange(values.size) - group_start[group]  # earlier holders in the batch
    # The stored holders of each distinct value: a range of the stored pairs (sorted by hash).
    distinct = values[group_start]
    stored_start = np.searchsorted(stored_hashes, distinct, side="left")
    stored_count = np.searchsorted(stored_hashes, distinct, side="right") - stored_start
    room = np.maximum(BUCKET_CAP - stored_count, 0)[group]  # batch holders a value can still take
    before = np.minimum(rank, room)  # earlier batch holders that kept it
    total = stored_count[group] + before
    kept = rank < room

    # Leads: (article, member, weight) for every stored and earlier kept batch holder.
    owner, index = _expand(stored_start[group], stored_count[group])
    lead_article = [positions[owner]]
    lead_member = [stored_ids[index]]
    lead_weight = [_UNIT // total[owner]]
    owner, index = _expand(group_start[group], before)
    lead_article.append(positions[owner])
    lead_member.append(_NEW + positions[index])
    lead_weight.append(_UNIT // total[owner])
    article, member, weight = (np.concatenate(parts) for parts in (lead_article, lead_member, lead_weight))
    article, member, weight = _lead_sums(article, member, weight, count)
    heavy = weight >= int(MIN_WEIGHT * _UNIT)
    article, member, weight = article[heavy], member[heavy], weight[heavy]
    best = np.lexsort((member, -weight, article))
    article, member = article[best], member[best]
    bounds = np.searchsorted(article, np.arange(count + 1)).tolist()
    candidates = [member[bounds[i] : min(bounds[i + 1], bounds[i] + MAX_VERIFIED)] for i in range(count)]
    by_article = np.argsort(positions[kept], kind="stable")
    kept_values, kept_positions = values[kept][by_article], positions[kept][by_article]
    bounds = np.searchsorted(kept_positions, np.arange(count + 1)).tolist()
    return [kept_values[bounds[i] : bounds[i + 1]] for i in range(count)], candidates


def _same_stories(mine: np.ndarray, others: list[np.ndarray]) -> list[bool]:
    """`same_story(mine, other)` for each of `others` (fingerprints), in one pass of numpy.

    A table of the low 16 bits of `mine` rules most values out first; only the few it lets
    through (common ones, and ~0.4 % others) are looked for in `mine`.
    """
    if mine.size == 0 or not others:
        return [False] * len(others)
    sizes = np.fromiter((other.size for other in others), dtype=np.int64, count=len(others))
    values = np.concatenate(others)
    table = np.zeros(1 << 16, dtype=bool)
    table[mine & 0xFFFF] = True
    maybe = np.flatnonzero(table[values & 0xFFFF])
    found = np.searchsorted(mine, values[maybe])
    np.minimum(found, mine.size - 1, out=found)
    hits = maybe[mine[found] == values[maybe]]
    common = np.bincount(np.searchsorted(np.cumsum(sizes), hits, side="right"), minlength=sizes.size)
    return ((common >= MIN_SHARED) & (common >= STORY_THRESHOLD * np.minimum(sizes, mine.size))).tolist()


def plan_batch(keys: Sequence[str], texts: Sequence[str], store: StoryStore) -> StoryPlan:
    """Group a batch of new articles (content hash, text) with each other and the stored ones.

    Each article in turn: its anchors are looked up among the stored articles and the batch's
    earlier ones; candidates sharing most anchors are verified first; it joins every story it
    is similar to (merging them) or starts its own, keyed by its content hash. The look-ups are
    one query for the batch, and one more for the stored candidates' fingerprints.
    """
    pairs = bigram_sets(texts)
    prints = [fingerprint(p) for p in pairs]
    held = [anchors(p) for p in pairs]
    wanted = _distinct(np.concatenate(held)) if held else _EMPTY
    kept, candidates = _candidates(held, store.buckets(wanted) if wanted.size else (_EMPTY, _EMPTY))
    leads = np.concatenate(candidates) if candidates else _EMPTY
    stored = _distinct(leads[leads < _NEW]).tolist()
    known = {  # else deleted meanwhile, or not grouped yet
        pk: (key, np.frombuffer(data, dtype=np.uint32))
        for pk, (key, data) in (store.articles(stored) if stored else {}).items()
        if key
    }
    stories = _Stories()
    for position, members in enumerate(candidates):
        theirs: list[Story] = []
        others: list[np.ndarray] = []
        for code in members.tolist():
            if code >= _NEW:
                theirs.append(("new", code - _NEW))
                others.append(prints[code - _NEW])
            elif code in known:
                theirs.append(("db", known[code][0]))
                others.append(known[code][1])
        mine: Story = ("new", position)
        # Verified all at once (numpy's per-call cost outweighs the few that could be skipped
        # because an earlier candidate already joined their story).
        for story, similar in zip(theirs, _same_stories(prints[position], others), strict=True):
            if similar and stories.find(story) != stories.find(mine):
                stories.union(story, mine)

    # The oldest story of each merged set names it: stored stories by their first article's id,
    # then the batch's in order. Ages are looked up only where two stored stories merge.
    merged = stories.merged()
    clashing = sorted(key for group in merged if sum(k == "db" for k, _ in group) > 1 for k, key in group if k == "db")
    first_id = store.oldest_member(clashing) if clashing else {}

    def age(story: Story) -> tuple[int, int, str]:
        kind, value = story
        return (1, value, "") if kind == "new" else (0, first_id.get(value, 0), value)

    plan = StoryPlan(keys=list(keys), fingerprints=[p.tobytes() for p in prints], anchors=kept)
    for group in merged:
        kind, value = min(group, key=age)
        oldest = keys[value] if kind == "new" else value
        for kind, value in group:
            if kind == "new":
                plan.keys[value] = oldest
            elif value != oldest:
                plan.renamed[value] = oldest
    return plan


# --- The database side ------------------------------------------------------------------------


def _chunks(values: Sequence[Any], model: Any, *, parameters_each: int = 1) -> Iterable[Sequence[Any]]:
    """`values` in pieces that fit one query's parameters on the model's database."""
    limit = connections[model.objects.db].features.max_query_params
    size = LOOKUP_CHUNK if limit is None else max(1, min(LOOKUP_CHUNK, (limit - 16) // parameters_each))
    for start in range(0, len(values), size):
        yield values[start : start + size]


# PostgreSQL's binary COPY of one row of bigint[] columns: numpy reads the arrays without a Python
# object per value (psycopg makes one per row, and a tuple per row costs more than the look-up).
_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_COPY_HEADER = _COPY_SIGNATURE + bytes(8)  # no flags, no header extension
_COPY_TRAILER = b"\xff\xff"
# A binary COPY row of bigints: its number of fields, then each field's size and value.
_ANCHOR_ROW = np.dtype(
    [("fields", ">i2")]
    + [
        (f"{name}{part}", kind)
        for name in ("project", "hash", "article")
        for part, kind in (("_size", ">i4"), ("", ">i8"))
    ]
)
_BIGINT_ITEM = np.dtype([("size", ">i4"), ("value", ">i8")])


def _bigint_arrays(data: bytes) -> list[np.ndarray]:
    """The bigint[] fields of the one row of a binary COPY (`data` is the whole output)."""
    assert data.startswith(_COPY_SIGNATURE) and data.endswith(_COPY_TRAILER), "not a binary COPY of one row"
    at = 19 + int.from_bytes(data[15:19], "big")  # after the header extension
    arrays = []
    for _ in range(int.from_bytes(data[at : at + 2], "big")):
        size = int.from_bytes(data[at + 2 : at + 6], "big")
        field = data[at + 6 : at + 6 + size]
        dimensions, nulls = int.from_bytes(field[0:4], "big"), int.from_bytes(field[4:8], "big")
        assert dimensions <= 1 and not nulls, "expected a one-dimensional array without NULLs"
        count = int.from_bytes(field[12:16], "big") if dimensions else 0
        items = np.frombuffer(field, dtype=_BIGINT_ITEM, offset=12 + 8 * dimensions, count=count)
        assert (items["size"] == 8).all(), "expected bigints"
        arrays.append(items["value"].astype(np.int64))
        at += 4 + size
    return arrays


def _array(values: np.ndarray | Sequence[int]) -> str:
    """A PostgreSQL bigint[] literal (integers only, so it can be written into the query)."""
    return "'{" + ",".join(map(str, np.asarray(values, dtype=np.int64).tolist())) + "}'::bigint[]"


class DatabaseStories(StoryStore):
    """The project's stored articles, through the given models (historical ones in migrations).

    Anchors are read and written with plain SQL: an article has dozens, and building a model
    instance for each would cost more than the rest of the import. On PostgreSQL they go both
    ways as binary COPY, which numpy reads and writes without a Python object per anchor.
    """

    def __init__(self, project_id: int, article_model: Any, anchor_model: Any):
        self.project_id = int(project_id)
        self.Article = article_model
        self.Anchor = anchor_model
        self.table = anchor_model._meta.db_table
        self.connection = connections[anchor_model.objects.db]
        self.postgresql = self.connection.vendor == "postgresql"

    def _rows(self, select: str, column: str, values: Sequence[int]) -> list[tuple[Any, ...]]:
        """`select` WHERE project_id = … AND `column` is one of `values`, with one parameter (SQLite)."""
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"{select} WHERE project_id = %s AND {column} IN (SELECT value FROM json_each(%s))",
                [self.project_id, json.dumps(list(values))],
            )
            return cursor.fetchall()

    def buckets(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.postgresql:
            query = (
                "SELECT coalesce(array_agg(hash), '{}'), coalesce(array_agg(article_id), '{}')"
                f" FROM {self.table} WHERE project_id = {self.project_id} AND hash = ANY({_array(hashes)})"
            )
            with (
                self.connection.wrap_database_errors,  # psycopg's errors as Django's, as execute() raises them
                self.connection.cursor() as cursor,
                cursor.copy(f"COPY ({query}) TO STDOUT (FORMAT BINARY)") as copy,
            ):
                found, ids = _bigint_arrays(b"".join(copy))
        else:
            pairs = self._rows(f"SELECT hash, article_id FROM {self.table}", "hash", hashes.tolist())
            found = np.fromiter((value for value, _ in pairs), dtype=np.int64, count=len(pairs))
            ids = np.fromiter((article_id for _, article_id in pairs), dtype=np.int64, count=len(pairs))
        order = np.lexsort((ids, found))
        return found[order], ids[order]

    def articles(self, ids: Sequence[int]) -> dict[int, tuple[str, bytes]]:
        select = f"SELECT id, story_key, story_bigrams FROM {self.Article._meta.db_table}"
        if self.postgresql:
            with self.connection.cursor() as cursor:
                cursor.execute(f"{select} WHERE project_id = {self.project_id} AND id = ANY({_array(ids)})")
                rows = cursor.fetchall()
        else:
            rows = self._rows(select, "id", ids)
        return {pk: (key, data) for pk, key, data in rows}

    def oldest_member(self, keys: Sequence[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for chunk in _chunks(keys, self.Article):
            rows = (
                self.Article.objects.filter(project_id=self.project_id, story_key__in=chunk)
                .values("story_key")
                .annotate(first=Min("pk"))
                .order_by()
            )
            found.update((row["story_key"], row["first"]) for row in rows)
        return found

    def save(self, plan: StoryPlan, article_ids: Sequence[int]) -> None:
        """Store the batch's anchors (`article_ids` in batch order) and rename merged stories."""
        values = np.concatenate(plan.anchors) if plan.anchors else _EMPTY
        holders = np.repeat(np.asarray(article_ids, dtype=np.int64), [held.size for held in plan.anchors])
        # In the primary key's order: neighbours go into the same index pages (half the time of
        # a random order on PostgreSQL).
        order = np.lexsort((holders, values))
        values, holders = values[order], holders[order]
        if self.postgresql:
            rows = np.empty(values.size, dtype=_ANCHOR_ROW)
            rows["fields"] = 3
            rows["project_size"] = rows["hash_size"] = rows["article_size"] = 8
            rows["project"], rows["hash"], rows["article"] = self.project_id, values, holders
            with (
                self.connection.wrap_database_errors,
                self.connection.cursor() as cursor,
                cursor.copy(f"COPY {self.table} (project_id, hash, article_id) FROM STDIN (FORMAT BINARY)") as copy,
            ):
                copy.write(_COPY_HEADER + rows.tobytes() + _COPY_TRAILER)
        elif values.size:
            with self.connection.cursor() as cursor:
                cursor.executemany(
                    f"INSERT INTO {self.table} (project_id, hash, article_id) VALUES (%s, %s, %s)",
                    [
                        (self.project_id, value, holder)
                        for value, holder in zip(values.tolist(), holders.tolist(), strict=True)
                    ],
                )
        # One UPDATE for all merged stories (each old key maps to the oldest of its set, which
        # is itself not renamed, so doing them together is doing them one after the other).
        for chunk in _chunks(sorted(plan.renamed), self.Article, parameters_each=3):
            self.Article.objects.filter(project_id=self.project_id, story_key__in=chunk).update(
                story_key=Case(
                    *(When(story_key=old, then=Value(plan.renamed[old])) for old in chunk), default=F("story_key")
                )
            )


def story_keys_backfill(article_model: Any, anchor_model: Any, *, batch_size: int = 500) -> int:
    """Group the stored articles without a story key, each project's in id order.

    What the data migration runs: the outcome is what importing them one at a time, in that
    order, would have given. Returns the number of articles grouped.
    """
    done = 0
    project_ids = article_model.objects.filter(story_key="").values_list("project_id", flat=True).distinct()
    for project_id in sorted(project_ids.order_by()):
        store = DatabaseStories(project_id, article_model, anchor_model)
        after = 0
        while True:
            rows = list(
                article_model.objects.filter(project_id=project_id, story_key="", pk__gt=after)
                .order_by("pk")
                .values_list("pk", "content_hash", "text")[:batch_size]
            )
            if not rows:
                break
            ids = [pk for pk, _, _ in rows]
            plan = plan_batch([key for _, key, _ in rows], [text for _, _, text in rows], store)
            store.save(plan, ids)
            grouped = [
                article_model(pk=pk, story_key=key, story_bigrams=data)
                for pk, key, data in zip(ids, plan.keys, plan.fingerprints, strict=True)
            ]
            article_model.objects.bulk_update(grouped, ["story_key", "story_bigrams"], batch_size=250)
            done += len(rows)
            after = ids[-1]
    return done
