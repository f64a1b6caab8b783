"""Deterministic train/dev/test splits that keep reports of the same story together.

An article's split comes from a hash of its story key, so it never changes between exports and
every report of a story lands in the same split: the test set doesn't leak into training
through another outlet's version of a test article. The story key is set at import
(`annotations.stories`), so an export reads it with each article and needs no pass over the
project first. An article without one (stored before stories, or not through the import
service) is its own story, keyed by its content hash.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

from annotations.exports.base import SPLITS, ExportOptionError


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
    """The split of a story key: a uniform number in [0, 1) from its SHA-256, cut by the ratios."""
    point = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big") / 2**64
    if point < ratios.train:
        return "train"
    if point < ratios.train + ratios.dev:
        return "dev"
    return "test"


def split_of(story_key: str, content_hash: str, ratios: Ratios) -> str:
    """The split of an article: its story's, or its own when it has no story key."""
    return split_for_key(story_key or content_hash, ratios)
