"""Article services: validate and store articles, with duplicates skipped and stories grouped.

Every way in (the import command, the API's upload, the admin's add form) ends in `articles_create`,
so every article gets its content hash, its story key and its anchors.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from annotations.json_limits import JSONTooDeep, check_json_depth, json_size
from annotations.language import detect_language
from annotations.models import (
    Article,
    ArticleAnchor,
    Layer,
    Project,
)
from annotations.services.layers import deletions_record
from annotations.stories import DatabaseStories, plan_batch


def normalise_text(text: str) -> str:
    """The form used to spot exact duplicates: NFC, unified line ends, collapsed white space."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    return " ".join(text.split())


def content_hash(text: str) -> str:
    return hashlib.sha256(normalise_text(text).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ArticleInput:
    """One article as read by an importer, before it is stored."""

    title: str
    text: str
    source: str = ""
    url: str = ""
    published: date | None = None
    language: str = ""  # empty: detected from the text at import
    metadata: dict[str, Any] | None = None


def check_article(*, article: ArticleInput) -> None:
    """Raise ValidationError naming the field when an article can't be stored."""
    if not isinstance(article.text, str) or not article.text.strip():
        raise ValidationError({"text": ["is empty"]})
    limit = settings.ARTICLE_MAX_CHARS
    if len(article.text) > limit:
        raise ValidationError(
            {"text": [f"has {len(article.text):,} characters, over the limit of {limit:,} (ARTICLE_MAX_CHARS)"]}
        )
    if not article.title.strip():
        raise ValidationError({"title": ["is empty"]})
    if len(article.title) > 1000:
        raise ValidationError({"title": [f"has {len(article.title)} characters, over the limit of 1000"]})
    if article.metadata is not None and not isinstance(article.metadata, dict):
        raise ValidationError({"metadata": ["must be a JSON object"]})
    if len(article.url) > 2000:
        raise ValidationError({"url": ["is longer than 2000 characters"]})
    if article.metadata:
        check_metadata(article.metadata)
    for name in ("title", "text", "source", "url", "language", "metadata"):
        problem = _unstorable_character(getattr(article, name))
        if problem:
            raise ValidationError({name: [problem]})


def check_metadata(metadata: dict[str, Any]) -> None:
    """An article's metadata nests at most JSON_MAX_DEPTH levels (the exports can write it) and takes
    at most ARTICLE_METADATA_MAX_BYTES as JSON (it is read with every article)."""
    try:
        check_json_depth(metadata)
    except JSONTooDeep as exc:
        raise ValidationError({"metadata": [f"is {exc}"]}) from None
    size, limit = json_size(metadata), settings.ARTICLE_METADATA_MAX_BYTES
    if size > limit:
        raise ValidationError(
            {"metadata": [f"takes {size:,} bytes as JSON, over the limit of {limit:,} (ARTICLE_METADATA_MAX_BYTES)"]}
        )


# A surrogate code point on its own (from a JSON escape such as "\\ud800") is no character: it can't be
# encoded as UTF-8, so neither hashed nor stored.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _unstorable_character(value: Any) -> str:
    """Why a string, or a key or string of a JSON value, can't be stored: a NUL (PostgreSQL refuses it)
    or a lone surrogate (not valid Unicode); "" when it can."""
    if isinstance(value, str):
        if "\x00" in value:
            return "contains a NUL character (U+0000), which the database can't store"
        if found := _LONE_SURROGATE.search(value):
            return (
                f"contains a lone surrogate (U+{ord(found.group()):04X}) at position {found.start()}, "
                "which is not a Unicode character: fix the escape or the encoding"
            )
        return ""
    if isinstance(value, dict):
        return next(filter(None, (_unstorable_character(k) or _unstorable_character(v) for k, v in value.items())), "")
    if isinstance(value, list):
        return next(filter(None, map(_unstorable_character, value)), "")
    return ""


@dataclass
class ImportResult:
    imported: list[Article]
    duplicates: list[str]


def articles_create(*, project: Project, articles: Sequence[ArticleInput], imported_from: str = "") -> ImportResult:
    """Store a batch of articles in one transaction, skipping exact duplicates (same normalised text).

    Duplicates are reported, not errors: within the batch and against the project's articles.
    Each article gets its story key (near-duplicates: other outlets' reports of the same story);
    an article that links two stories merges them, which renames the later one's key.
    """
    for article in articles:
        check_article(article=article)
    hashes = [content_hash(a.text) for a in articles]
    existing = _stored_hashes(project, hashes)
    stored: list[tuple[ArticleInput, str]] = []
    duplicates: list[str] = []
    for article, digest in zip(articles, hashes, strict=True):
        if digest in existing:
            duplicates.append(article.title)
            continue
        existing.add(digest)
        stored.append((article, digest))
    stored = [(_with_language(article), digest) for article, digest in stored]
    with transaction.atomic():
        # Reports of the same story share a story key (and so a split): see annotations.stories.
        stories = DatabaseStories(project.pk, Article, ArticleAnchor)
        plan = plan_batch([digest for _, digest in stored], [article.text for article, _ in stored], stories)
        rows = [
            (
                project.pk,
                article.title.strip(),
                article.text,
                article.source,
                article.url,
                article.published,
                article.language,
                digest,
                key,
                fingerprint,
                article.metadata or {},
                imported_from,
            )
            for (article, digest), key, fingerprint in zip(stored, plan.keys, plan.fingerprints, strict=True)
        ]
        created = _articles_insert(project, rows)
        stories.save(plan, [article.pk for article in created])
    return ImportResult(imported=created, duplicates=duplicates)


def _with_language(article: ArticleInput) -> ArticleInput:
    """The article with its language: the one given (the user decides), else detected from the text
    among the languages with a pipeline; an undetermined or mixed text says so in its metadata."""
    if article.language.strip():
        return replace(article, language=article.language.strip().lower())
    guess = detect_language(article.text, list(settings.SPACY_MODELS))
    metadata = article.metadata
    if guess.note:
        metadata = {**(metadata or {}), "language_note": guess.note}
        if guess.mixed:
            metadata["language_mixed"] = True
    return replace(article, language=guess.code, metadata=metadata)


def _stored_hashes(project: Project, hashes: list[str]) -> set[str]:
    """Which of the content hashes the project's articles have.

    On PostgreSQL as one array parameter: an IN of a thousand placeholders costs Django and
    psycopg ~10 µs an article to compose.
    """
    connection = transaction.get_connection(Article.objects.db)
    if connection.vendor != "postgresql":
        return set(
            Article.objects.filter(project=project, content_hash__in=set(hashes)).values_list("content_hash", flat=True)
        )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT content_hash FROM {Article._meta.db_table} WHERE project_id = %s AND content_hash = ANY(%s)",
            [project.pk, sorted(set(hashes))],
        )
        return {digest for (digest,) in cursor.fetchall()}


# Article's columns in the order of its fields; `_articles_insert` gets the values between id and
# created_at in this order.
_ARTICLE_COLUMNS = (
    "id",
    "project_id",
    "title",
    "text",
    "source",
    "url",
    "published",
    "language",
    "content_hash",
    "story_key",
    "story_bigrams",
    "metadata",
    "imported_from",
    "created_at",
)


def _articles_insert(project: Project, rows: list[tuple[Any, ...]]) -> list[Article]:
    """Insert articles (their values from project_id to imported_from), ids in the order given.

    On PostgreSQL with a binary COPY, ids taken from the sequence first: `bulk_create`'s INSERTs
    of 500 rows cost psycopg more to compose (~150 µs an article) than the server takes to
    store them, and building model instances from keywords ~25 µs more.
    """
    meta = Article._meta
    columns = tuple(field.column for field in meta.concrete_fields)
    assert columns == _ARTICLE_COLUMNS, f"Article's columns changed to {columns}: update _articles_insert"
    connection = transaction.get_connection(Article.objects.db)
    if connection.vendor != "postgresql" or not rows:
        names = [field.attname for field in meta.concrete_fields][2:-1]  # title … imported_from
        articles = [Article(project=project, **dict(zip(names, row[1:], strict=True))) for row in rows]
        return Article.objects.bulk_create(articles, batch_size=500)
    encoder = meta.get_field("metadata").encoder
    created_at = timezone.now()  # the whole batch's (auto_now_add)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [meta.db_table, len(rows)]
        )
        ids = sorted(pk for (pk,) in cursor.fetchall())
        cursor.execute(
            "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0",
            [meta.db_table],
        )
        types = dict(cursor.fetchall())
        with (
            connection.wrap_database_errors,  # psycopg's errors as Django's (IntegrityError), as execute() raises them
            cursor.copy(f"COPY {meta.db_table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as copy,
        ):
            copy.set_types([types[column] for column in columns])
            for pk, row in zip(ids, rows, strict=True):
                copy.write_row((pk, *row[:10], connection.ops.adapt_json_value(row[10], encoder), row[11], created_at))
    created = []
    for pk, row in zip(ids, rows, strict=True):
        article = Article(pk, *row, created_at)  # type: ignore[misc]  # positional, in column order: the fast path
        article.project = project
        article._state.adding, article._state.db = False, connection.alias
        created.append(article)
    return created


def check_article_update(
    *, article: Article, title: str, source: str, url: str, language: str, metadata: dict[str, Any] | None
) -> None:
    """The editable fields of a stored article, checked as an import checks them (`check_article`).

    The text is the stored one: it never changes once imported.
    """
    check_article(
        article=ArticleInput(
            title=title, text=article.text, source=source, url=url, language=language, metadata=metadata
        )
    )


@transaction.atomic
def article_update(
    *,
    article: Article,
    title: str,
    source: str,
    url: str,
    published: date | None,
    language: str,
    metadata: dict[str, Any] | None,
) -> Article:
    """Change an article's editable fields. The text, project and story stay as imported: every
    annotation's offsets point into the text."""
    check_article_update(article=article, title=title, source=source, url=url, language=language, metadata=metadata)
    article.title, article.source, article.url = title, source, url
    article.published, article.language, article.metadata = published, language, metadata or {}
    article.save(update_fields=["title", "source", "url", "published", "language", "metadata"])
    return article


@transaction.atomic
def article_delete(*, article: Article) -> None:
    """Delete an article with its layers and their annotations (its story anchors stay, harmless).

    Each layer is recorded as a `Deletion`, so `since=` exports emit a tombstone for the article."""
    deletions_record(layers=Layer.objects.filter(article_id=article.pk), what="article")
    article.delete()
