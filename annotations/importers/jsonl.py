"""JSON Lines articles: one JSON object per line.

Fields: `title` and `text` (required strings); optional `source`, `url`, `published` (ISO date),
`language` and `metadata` (an object). A line of the native JSONL export also has `id`, `split`,
`layer`, `mentions`, `events` and `stances`: they are ignored here, so an export can be imported
as articles (`corpus_import_jsonl` brings the annotations too). Any other field is an error, so
a misspelt key isn't lost silently. Every problem is reported with file:line; one bad line fails
the whole file.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from annotations.errors import ImportFailed
from annotations.importers.base import (
    checked,
    json_lines,
    json_type_name,
    max_length,
    required_string,
    string_field,
    unknown_fields,
)
from annotations.models import Article
from annotations.services.articles import ArticleInput

FIELDS = frozenset({"title", "text", "source", "url", "published", "language", "metadata"})
# What an export line has besides the article (see annotations.exports.base.ExportDocument).
EXPORT_FIELDS = frozenset({"id", "split", "layer", "mentions", "events", "stances"})


def parse_published(value: Any) -> date | None:
    """An ISO date ("2024-04-12") or date-time ("2024-04-12T05:05:00Z", its date is kept); else ValueError."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"must be an ISO date string (YYYY-MM-DD), not {json_type_name(value)}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(value).date()
    except ValueError:
        raise ValueError(f"is not an ISO date (YYYY-MM-DD): {value!r}") from None


def article_from(record: dict[str, Any], where: str) -> tuple[ArticleInput | None, list[str]]:
    errors = unknown_fields({key: None for key in record if key not in EXPORT_FIELDS}, FIELDS, where)
    title = required_string(record, "title", where, errors)
    text = required_string(record, "text", where, errors)
    try:
        published = parse_published(record.get("published"))
    except ValueError as exc:
        errors.append(f"{where}: field 'published' {exc}")
        published = None
    metadata = record.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        errors.append(f"{where}: field 'metadata' must be an object, not {json_type_name(metadata)}")
    source, url, language = (
        string_field(record, field, where, errors, max_length=max_length(Article, field))
        for field in ("source", "url", "language")
    )
    if errors:
        return None, errors
    article = ArticleInput(
        title=title,
        text=text,
        source=source,
        url=url,
        published=published,
        language=language or "",
        metadata=metadata or {},
    )
    return article, checked(article, where)


def read_articles(path: Path) -> list[ArticleInput]:
    articles: list[ArticleInput] = []
    errors: list[str] = []
    for number, record in json_lines(path, errors):
        article, problems = article_from(record, f"{path}:{number}")
        errors += problems
        if article is not None and not problems:
            articles.append(article)
    if errors:
        raise ImportFailed(errors)
    return articles
