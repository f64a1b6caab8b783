"""Bounds on untrusted JSON: how deep it nests and how large a value is once encoded.

Python's `json` recurses once per level of nesting, so a body of a thousand `[` raises
RecursionError (a 500) instead of a parse error, and orjson (the exports) refuses to write a value
nested deeper than 255 levels: a value stored deeper would break every later export. The API's
parser, the JSON Lines readers and the article checks all measure with these functions.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings


class JSONTooDeep(ValueError):
    """A JSON text or value nested deeper than the limit."""

    def __init__(self, limit: int):
        super().__init__(f"nested deeper than {limit} levels (JSON_MAX_DEPTH)")
        self.limit = limit


def max_depth() -> int:
    return int(settings.JSON_MAX_DEPTH)


def json_depth(value: Any, *, stop_past: int | None = None) -> int:
    """How deeply `value` nests (a scalar is 0, `[]` and `{}` are 1), without recursion.

    With `stop_past`, counting stops as soon as the depth exceeds it (that depth is returned)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        depth += 1
        if depth > deepest:
            deepest = depth
            if stop_past is not None and depth > stop_past:
                return depth
        stack.extend((child, depth) for child in children if isinstance(child, (dict, list)))
    return deepest


def check_json_depth(value: Any, limit: int | None = None) -> None:
    """Raise JSONTooDeep when `value` nests deeper than `limit` (default JSON_MAX_DEPTH)."""
    limit = max_depth() if limit is None else limit
    if json_depth(value, stop_past=limit) > limit:
        raise JSONTooDeep(limit)


def json_loads_bounded(text: str | bytes, **options: Any) -> Any:
    """`json.loads` that raises JSONTooDeep (a ValueError) rather than RecursionError or a value
    nested deeper than JSON_MAX_DEPTH."""
    try:
        value = json.loads(text, **options)
    except RecursionError:
        raise JSONTooDeep(max_depth()) from None
    check_json_depth(value)
    return value


def json_size(value: Any) -> int:
    """The length in bytes of `value` as compact UTF-8 JSON (how it is stored)."""
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass"))
