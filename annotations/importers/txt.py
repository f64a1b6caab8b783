"""Plain-text articles: one article per file.

The text is the whole file as decoded (offsets point into it, so nothing is stripped). The first
non-empty line is the title. A "Published on: …" / "As of: …" line gives the published date when
it parses; the line itself is kept in metadata["dateline"] either way, since dates can be wrong.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

from dateutil import parser as date_parser

from annotations.errors import ImportFailed
from annotations.importers.base import checked, read_text
from annotations.services.articles import ArticleInput

DATELINE = re.compile(r"^[ \t]*(?:published(?:[ \t]+on)?|as[ \t]+of)[ \t]*:[ \t]*(?P<value>\S.*?)\s*$", re.I | re.M)
TITLE_MAX_CHARS = 1000

# Two different defaults: a field dateutil filled in from a default differs between the two.
_DEFAULTS = (datetime(2000, 1, 1), datetime(2001, 2, 2))


def parse_dateline(value: str) -> date | None:
    """The date in a dateline ("April 12, 2024 5:05 a.m" → 2024-04-12), or None unless
    year, month and day are all stated."""
    try:
        first, second = (date_parser.parse(value, default=d, fuzzy=True) for d in _DEFAULTS)
    except (ValueError, OverflowError):
        return None
    return first.date() if first.date() == second.date() else None


def title_of(text: str) -> str:
    title = next(line.strip() for line in text.splitlines() if line.strip())
    return title if len(title) <= TITLE_MAX_CHARS else title[: TITLE_MAX_CHARS - 1] + "…"


def read_articles(path: Path) -> list[ArticleInput]:
    text = read_text(path)
    if not text.strip():
        raise ImportFailed([f"{path}: file is empty"])
    published = None
    metadata: dict[str, str] = {}
    if match := DATELINE.search(text):
        metadata["dateline"] = match.group(0).strip()
        published = parse_dateline(match["value"])
    article = ArticleInput(title=title_of(text), text=text, published=published, metadata=metadata)
    if errors := checked(article, str(path)):
        raise ImportFailed(errors)
    return [article]
