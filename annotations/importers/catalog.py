"""Which reader handles which file, by suffix. Add a format here and in its own module."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from annotations.importers import jsonl, txt
from annotations.services.articles import ArticleInput

ArticleReader = Callable[[Path], list[ArticleInput]]

ARTICLE_READERS: dict[str, ArticleReader] = {
    ".jsonl": jsonl.read_articles,
    ".txt": txt.read_articles,
}


def article_reader_for(path: Path) -> ArticleReader | None:
    return ARTICLE_READERS.get(path.suffix.lower())
