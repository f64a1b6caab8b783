"""Deterministic train/dev/test splits that keep reports of the same story together and come back full.

Every report of a story lands in one split, so the test set doesn't leak into training through
another outlet's version of a test article. The story key is set at import (`annotations.stories`);
an article without one (stored before stories, or not through the import service) is its own
story, keyed by its content hash.

How a story's split is chosen (`assign_splits`), from the sizes of the exported stories alone (one
aggregate query before the first document, no article text):

1. **Home.** A story's home split comes from a hash of its key (and the `seed`), cut by the ratios:
   it never depends on the other stories, so a story keeps its home however the project grows.
2. **Fill.** Each split with a positive ratio that has no story gets one, as long as the stories
   go round: the smallest story (nearest the boundary) of the split with the most surplus.
3. **Repair.** While moving one story (or swapping two) between splits brings the article
   counts closer to ratio × total, the best such change is made; a split is never emptied. Moved
   stories are those whose hash lies nearest the other split, so the repair acts like moving the
   cut points a little: growing the project moves few stories.

The trade-off: a pure hash (the rule before) never moves a story but leaves small projects
lopsided (the five seeds: 2/0/3); a greedy assignment by size hits the ratios best but reshuffles
many stories when one is added. Here the stories moved away from home are only the repair's,
about the hash's random deviation (~√stories in a large project), and a small project gets every
split it asked for when it has as many stories as splits.
"""

from __future__ import annotations

import bisect
import hashlib
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from annotations.exports.base import SPLITS, ExportOptionError


@dataclass(frozen=True)
class Ratios:
    train: float
    dev: float
    test: float

    def __str__(self) -> str:
        return f"{self.train:g},{self.dev:g},{self.test:g}"

    def of(self, split: str) -> float:
        return float(getattr(self, split))


DEFAULT_RATIOS = Ratios(0.8, 0.1, 0.1)
DEFAULT_SEED = 0


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


def story_point(key: str, seed: int = DEFAULT_SEED) -> float:
    """A uniform number in [0, 1) from the SHA-256 of a story key (with the seed, unless it is 0:
    seed 0 gives the points of the hash-only splits before, so old splits are the homes)."""
    text = key if seed == DEFAULT_SEED else f"{seed}\x00{key}"
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big") / 2**64


def split_at(point: float, ratios: Ratios) -> str:
    if point < ratios.train:
        return "train"
    if point < ratios.train + ratios.dev:
        return "dev"
    return "test"


def split_for_key(key: str, ratios: Ratios, seed: int = DEFAULT_SEED) -> str:
    """The home split of a story key: its point cut by the ratios."""
    return split_at(story_point(key, seed), ratios)


@dataclass
class SplitAssignment:
    """Which split each exported story is in, and what that gives (see the module docstring)."""

    ratios: Ratios
    seed: int = DEFAULT_SEED
    of_story: dict[str, str] = field(default_factory=dict)
    articles: Counter[str] = field(default_factory=Counter)
    stories: Counter[str] = field(default_factory=Counter)
    moved: int = 0  # stories not in their home split

    def split_of(self, story_key: str, content_hash: str) -> str:
        """An article's split: its story's (its own when it has no story key). A story the
        assignment didn't see (an article stored since) goes to its home split."""
        key = story_key or content_hash
        split = self.of_story.get(key)
        return split if split is not None else split_for_key(key, self.ratios, self.seed)

    def empty_splits(self, requested: Iterable[str] = SPLITS) -> list[str]:
        """Requested splits with a positive ratio that got no article."""
        return [s for s in requested if self.ratios.of(s) > 0 and self.articles[s] == 0]

    def as_json(self, requested: Sequence[str] = SPLITS) -> dict[str, object]:
        total = sum(self.articles.values())
        return {
            "ratios": {s: self.ratios.of(s) for s in SPLITS},
            "seed": self.seed,
            "stories": {s: self.stories[s] for s in SPLITS},
            "articles": {s: self.articles[s] for s in SPLITS},
            "realised": {s: round(self.articles[s] / total, 4) if total else 0.0 for s in SPLITS},
            "moved_from_home": self.moved,
            "empty": self.empty_splits(requested),
        }


def split_of(story_key: str, content_hash: str, ratios: Ratios, seed: int = DEFAULT_SEED) -> str:
    """The home split of an article: its story's, or its own when it has no story key."""
    return split_for_key(story_key or content_hash, ratios, seed)


_Item = tuple[float, str]  # (point, story key): a bucket's order


def assign_splits(sizes: Iterable[tuple[str, int]], ratios: Ratios, seed: int = DEFAULT_SEED) -> SplitAssignment:
    """Assign stories, given as (story key, articles exported), to splits: home, fill, repair."""
    by_key: dict[str, int] = {}
    for key, size in sizes:
        by_key[key] = by_key.get(key, 0) + size
    total = sum(by_key.values())
    target = {s: ratios.of(s) * total for s in SPLITS}
    positive = [s for s in SPLITS if ratios.of(s) > 0]
    buckets: dict[str, dict[int, list[_Item]]] = {s: {} for s in SPLITS}
    count: Counter[str] = Counter()
    stories: Counter[str] = Counter()
    # Homes: story_point and split_at over whole lists (this runs once per story before the first
    # byte), per story size; each size's stories sorted by point, so each split's share is a slice.
    sha256, from_bytes = hashlib.sha256, int.from_bytes
    prefix = b"" if seed == DEFAULT_SEED else f"{seed}\x00".encode()
    by_size: dict[int, list[str]] = {}
    for key, size in by_key.items():
        by_size.setdefault(size, []).append(key)
    for size, keys in by_size.items():
        points = [from_bytes(sha256(prefix + key.encode("utf-8")).digest()[:8], "big") / 2**64 for key in keys]
        items = sorted(zip(points, keys, strict=True))
        first_dev = bisect.bisect_left(items, (ratios.train,))
        first_test = bisect.bisect_left(items, (ratios.train + ratios.dev,))
        for split, part in (
            ("train", items[:first_dev]),
            ("dev", items[first_dev:first_test]),
            ("test", items[first_test:]),
        ):
            if part:
                buckets[split][size] = part
                count[split] += size * len(part)
                stories[split] += len(part)

    def sizes_in(split: str) -> list[int]:
        return sorted(size for size, items in buckets[split].items() if items)

    def can_give(split: str) -> bool:
        return stories[split] >= 2 or (stories[split] == 1 and ratios.of(split) == 0)

    def move(source: str, to: str, size: int) -> None:
        items = buckets[source][size]
        # the story whose point lies nearest the other split: the cut moves, the rest stay
        item = items.pop() if SPLITS.index(to) > SPLITS.index(source) else items.pop(0)
        bisect.insort(buckets[to].setdefault(size, []), item)
        moved.add(item[1])
        count[source] -= size
        count[to] += size
        stories[source] -= 1
        stories[to] += 1

    moved: set[str] = set()

    # Fill: every split with a positive ratio gets a story while the stories go round.
    while True:
        empty = [s for s in positive if stories[s] == 0]
        donors = [s for s in SPLITS if can_give(s)]
        if not empty or not donors:
            break
        to = max(empty, key=lambda s: target[s])
        source = max(donors, key=lambda s: count[s] - target[s])
        move(source, to, sizes_in(source)[0])

    # Repair: the best single move, else the best swap, while the counts come closer to the targets.
    def gain(over: float, under: float, size: int) -> float:
        return over + under - abs(over - size) - abs(under - size)

    for _ in range(len(by_key) + 10):
        best: tuple[float, str, str, int, int] | None = None
        for source in SPLITS:
            over = count[source] - target[source]
            if over <= 0:
                continue
            for to in SPLITS:
                under = target[to] - count[to]
                if to == source or under <= 0:
                    continue
                if can_give(source):
                    for size in sizes_in(source):
                        g = gain(over, under, size)
                        if g > 1e-9 and (best is None or g > best[0] + 1e-9):
                            best = (g, source, to, size, 0)
                if best is None:
                    for size in sizes_in(source):
                        for back in sizes_in(to):
                            g = gain(over, under, size - back) if size > back else 0.0
                            if g > 1e-9 and (best is None or g > best[0] + 1e-9):
                                best = (g, source, to, size, back)
        if best is None:
            break
        _, source, to, size, back = best
        move(source, to, size)
        if back:
            move(to, source, back)

    assignment = SplitAssignment(ratios=ratios, seed=seed, articles=count, stories=stories)
    for split, split_buckets in buckets.items():
        for items in split_buckets.values():
            assignment.of_story.update(dict.fromkeys([key for _, key in items], split))
    assignment.moved = sum(assignment.of_story[key] != split_for_key(key, ratios, seed) for key in moved)
    return assignment
