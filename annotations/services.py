"""Every write to the domain goes through these functions.

Keyword-only, typed, one transaction each. Views, serializers, admin actions, Celery tasks and
management commands call them; none of them writes models directly.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from annotations.errors import InvalidAnnotation, VersionConflict
from annotations.models import (
    Actor,
    Article,
    ArticleAnchor,
    Event,
    EventArgument,
    Layer,
    Membership,
    Mention,
    Project,
    Stance,
)
from annotations.schema import CODE_PATTERN, LabelSchema, SchemaError, load_default_schema, validate_label_schema
from annotations.stories import DatabaseStories, plan_batch
from annotations.validation import (
    validate_event,
    validate_event_complete,
    validate_mention_label,
    validate_span,
    validate_stance_label,
)

# --- Projects -------------------------------------------------------------------------------


def project_create(
    *,
    slug: str,
    name: str,
    label_schema: dict[str, Any] | None = None,
    guidelines: str = "",
    overlap: int = 2,
    description: str = "",
) -> Project:
    """Create a project; without a schema it gets the default geopolitics schema from seeds/."""
    document = label_schema if label_schema is not None else load_default_schema()
    validate_label_schema(document)
    if Project.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": [f"a project with slug {slug!r} already exists"]})
    project = Project(
        slug=slug, name=name, label_schema=document, guidelines=guidelines, overlap=overlap, description=description
    )
    project.full_clean()
    with transaction.atomic():
        project.save()
    return project


@transaction.atomic
def project_set_schema(*, project: Project, label_schema: dict[str, Any]) -> Project:
    """Replace a project's schema (validated) and bump its schema version."""
    validate_label_schema(label_schema)
    project.label_schema = label_schema
    project.schema_version = F("schema_version") + 1
    project.save(update_fields=["label_schema", "schema_version", "updated_at"])
    project.refresh_from_db(fields=["schema_version"])
    return project


@transaction.atomic
def membership_set(*, project: Project, user: AbstractBaseUser, role: str) -> Membership:
    if role not in Membership.Role.values:
        raise ValidationError({"role": [f"unknown role {role!r}; allowed: {', '.join(Membership.Role.values)}"]})
    membership, _ = Membership.objects.update_or_create(project=project, user=user, defaults={"role": role})
    return membership


def project_schema(project: Project) -> LabelSchema:
    return LabelSchema(project.label_schema)


# --- Articles -------------------------------------------------------------------------------


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
    language: str = "en"
    metadata: dict[str, Any] | None = None


def article_check(article: ArticleInput) -> None:
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
    for name in ("title", "text", "source", "url", "language", "metadata"):
        if _holds_nul(getattr(article, name)):
            raise ValidationError({name: ["contains a NUL character (U+0000), which the database can't store"]})


def _holds_nul(value: Any) -> bool:
    """A NUL anywhere in a string, or in a key or string of a JSON value (PostgreSQL refuses both)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(map(_holds_nul, value))
    return False


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
        article_check(article)
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
                article.language or "en",
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
        article = Article(pk, *row, created_at)
        article.project = project
        article._state.adding, article._state.db = False, connection.alias
        created.append(article)
    return created


# --- Layers ---------------------------------------------------------------------------------


def layer_for_annotator(*, article: Article, annotator: AbstractBaseUser) -> Layer:
    layer, _ = Layer.objects.get_or_create(article=article, kind=Layer.Kind.ANNOTATOR, annotator=annotator)
    return layer


def layer_gold(*, article: Article) -> Layer:
    layer, _ = Layer.objects.get_or_create(article=article, kind=Layer.Kind.GOLD)
    return layer


def _layer_touch(layer: Layer, expected_version: int | None, *, status_change: bool = False) -> None:
    """Bump the layer version; when the caller names the version it read, it must still be current.

    The conditional UPDATE is atomic in the database, so two writers holding the same version
    can't both succeed: the second gets VersionConflict and its transaction rolls back. An
    adjudicated gold layer is settled: only a status change (reopening it) may touch it.
    """
    # queryset.update() skips auto_now, so updated_at is set here. The not-started → in-progress
    # move is decided by the database row, not by a possibly stale in-memory status.
    updates: dict[str, Any] = {
        "version": F("version") + 1,
        "updated_at": timezone.now(),
        "status": Case(
            When(
                Q(status=Layer.Status.NOT_STARTED) & ~Q(kind=Layer.Kind.MACHINE),
                then=Value(Layer.Status.IN_PROGRESS),
            ),
            default=F("status"),
        ),
    }
    query = Layer.objects.filter(pk=layer.pk)
    if expected_version is not None:
        query = query.filter(version=expected_version)
    if not status_change:
        query = query.exclude(kind=Layer.Kind.GOLD, status=Layer.Status.ADJUDICATED)
    if query.update(**updates) == 0:
        current = Layer.objects.filter(pk=layer.pk).values("version", "status").first() or {}
        if expected_version is None or current.get("version") == expected_version:
            raise InvalidAnnotation(
                "layer", f"gold layer {layer.pk} is adjudicated: reopen it (status in_progress) before changing it"
            )
        raise VersionConflict(layer_id=layer.pk, expected=expected_version, current=current.get("version") or 0)
    layer.refresh_from_db(fields=["version", "status", "updated_at"])


def _schema_for(layer: Layer) -> LabelSchema:
    return LabelSchema(layer.article.project.label_schema)


@transaction.atomic
def layer_set_status(
    *, layer: Layer, status: str, expected_version: int | None = None, by: AbstractBaseUser | None = None
) -> Layer:
    """Mark a layer done (only when every event has its required roles) or reopen it.

    Only a gold layer can be adjudicated, and adjudicating needs the same completeness as done;
    `by` (the reviewer) and the time are kept on the layer, and cleared when it is reopened.
    """
    if status not in Layer.Status.values:
        raise InvalidAnnotation("status", f"unknown status {status!r}; allowed: {', '.join(Layer.Status.values)}")
    if status == Layer.Status.ADJUDICATED and layer.kind != Layer.Kind.GOLD:
        raise InvalidAnnotation("status", f"only a gold layer can be adjudicated; this is a {layer.kind} layer")
    if status in (Layer.Status.DONE, Layer.Status.ADJUDICATED):
        schema = _schema_for(layer)
        problems: list[str] = []
        for event in layer.events.prefetch_related("arguments"):
            counts = Counter(argument.role for argument in event.arguments.all())
            problems += [
                f"event {event.pk} {event.trigger_text!r}: {p}"
                for p in validate_event_complete(schema, event_type=event.event_type, role_counts=counts)
            ]
        if problems:
            raise InvalidAnnotation("status", f"the layer can't be {status} yet: " + "; ".join(problems))
    current = Layer.objects.filter(pk=layer.pk).values_list("version", "status").first()
    if status == Layer.Status.ADJUDICATED and current is not None and current[1] == status:
        # Adjudicated already: the adjudicator and time stay; a stale reader still hears about it.
        if expected_version is not None and expected_version != current[0]:
            raise VersionConflict(layer_id=layer.pk, expected=expected_version, current=current[0])
        layer.refresh_from_db(fields=["version", "status", "adjudicated_by", "adjudicated_at", "updated_at"])
        return layer
    _layer_touch(layer, expected_version, status_change=True)
    adjudicated = status == Layer.Status.ADJUDICATED
    layer.status = status
    layer.adjudicated_by = by if adjudicated else None  # type: ignore[assignment]
    layer.adjudicated_at = timezone.now() if adjudicated else None
    Layer.objects.filter(pk=layer.pk).update(
        status=status, adjudicated_by=layer.adjudicated_by, adjudicated_at=layer.adjudicated_at
    )
    return layer


# --- Mentions -------------------------------------------------------------------------------


@transaction.atomic
def mention_create(
    *,
    layer: Layer,
    label: str,
    start: int,
    end: int,
    text: str | None = None,
    actor: Actor | None = None,
    score: float | None = None,
    provenance: dict[str, Any] | None = None,
    expected_version: int | None = None,
) -> Mention:
    """Add an entity mention; offsets must lie in the text and match `text` when it is given."""
    article = layer.article
    validate_mention_label(_schema_for(layer), label)
    quoted = validate_span(article.text, start, end, text)
    if Mention.objects.filter(layer=layer, start=start, end=end, label=label).exists():
        raise InvalidAnnotation("start", f"a {label} mention on [{start}, {end}) already exists in this layer")
    _layer_touch(layer, expected_version)
    return Mention.objects.create(
        layer=layer,
        label=label,
        start=start,
        end=end,
        text=quoted,
        actor=actor,
        score=score,
        provenance=provenance or {},
    )


@transaction.atomic
def mention_update(
    *,
    mention: Mention,
    label: str | None = None,
    start: int | None = None,
    end: int | None = None,
    text: str | None = None,
    actor: Actor | type[Ellipsis] | None = ...,
    expected_version: int | None = None,
) -> Mention:
    """Change a mention's label, span or actor link; arguments that it fills are re-checked."""
    layer = mention.layer
    schema = _schema_for(layer)
    new_label = mention.label if label is None else label
    validate_mention_label(schema, new_label)
    new_start = mention.start if start is None else start
    new_end = mention.end if end is None else end
    quoted = validate_span(layer.article.text, new_start, new_end, text)
    for argument in mention.arguments.select_related("event"):
        spec = schema.event_types.get(argument.event.event_type)
        role = spec.roles.get(argument.role) if spec else None
        if role is None:
            continue  # type or role left the schema: layer_set_status reports it, not this edit
        if new_label not in role.entity_types:
            raise InvalidAnnotation(
                "label",
                f"the mention fills role {argument.role!r} of event {argument.event_id}, "
                f"which takes {', '.join(sorted(role.entity_types))}, not {new_label}",
            )
    duplicate = Mention.objects.filter(layer=layer, start=new_start, end=new_end, label=new_label)
    if duplicate.exclude(pk=mention.pk).exists():
        raise InvalidAnnotation("start", f"a {new_label} mention on [{new_start}, {new_end}) already exists")
    _layer_touch(layer, expected_version)
    mention.label, mention.start, mention.end, mention.text = new_label, new_start, new_end, quoted
    if actor is not ...:
        mention.actor = actor  # type: ignore[assignment]
    try:
        with transaction.atomic():
            mention.save()
    except IntegrityError as exc:
        raise InvalidAnnotation("start", f"a {new_label} mention on [{new_start}, {new_end}) already exists") from exc
    return mention


@transaction.atomic
def mention_delete(*, mention: Mention, expected_version: int | None = None) -> None:
    """Delete a mention, with the event arguments and stances that point at it."""
    _layer_touch(mention.layer, expected_version)
    mention.delete()


# --- Events ---------------------------------------------------------------------------------


def _argument_mentions(layer: Layer, arguments: Iterable[tuple[str, int]]) -> list[tuple[str, Mention]]:
    pairs = list(arguments)
    for pair in pairs:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise InvalidAnnotation("arguments", f"each argument is a (role, mention id) pair, got {pair!r}")
        if not isinstance(pair[1], int) or isinstance(pair[1], bool):
            raise InvalidAnnotation("arguments", f"mention id must be an integer, got {pair[1]!r}")
    ids = {mention_id for _, mention_id in pairs}
    found = Mention.objects.in_bulk(ids)
    resolved: list[tuple[str, Mention]] = []
    for role, mention_id in pairs:
        mention = found.get(mention_id)
        if mention is None or mention.layer_id != layer.pk:
            raise InvalidAnnotation("arguments", f"mention {mention_id} does not exist in this layer")
        resolved.append((role, mention))
    return resolved


@transaction.atomic
def event_create(
    *,
    layer: Layer,
    event_type: str,
    trigger_start: int,
    trigger_end: int,
    trigger_text: str | None = None,
    mode: str = "",
    realis: str = "actual",
    contexts: Sequence[str] = (),
    arguments: Iterable[tuple[str, int]] = (),
    score: float | None = None,
    provenance: dict[str, Any] | None = None,
    expected_version: int | None = None,
) -> Event:
    """Add an event with its trigger and (role, mention id) arguments, all checked against the schema."""
    schema = _schema_for(layer)
    quoted = validate_span(layer.article.text, trigger_start, trigger_end, trigger_text, field="trigger")
    resolved = _argument_mentions(layer, arguments)
    validate_event(
        schema,
        event_type=event_type,
        mode=mode,
        realis=realis,
        contexts=contexts,
        arguments=resolved,
        layer_id=layer.pk,
    )
    _layer_touch(layer, expected_version)
    event = Event.objects.create(
        layer=layer,
        event_type=event_type,
        trigger_start=trigger_start,
        trigger_end=trigger_end,
        trigger_text=quoted,
        mode=mode,
        realis=realis,
        contexts=list(contexts),
        score=score,
        provenance=provenance or {},
    )
    EventArgument.objects.bulk_create(
        EventArgument(event=event, role=role, mention=mention) for role, mention in resolved
    )
    return event


@transaction.atomic
def event_update(
    *,
    event: Event,
    event_type: str | None = None,
    mode: str | None = None,
    realis: str | None = None,
    contexts: Sequence[str] | None = None,
    arguments: Iterable[tuple[str, int]] | None = None,
    expected_version: int | None = None,
) -> Event:
    """Change an event's type, attributes or (when given) replace its arguments."""
    layer = event.layer
    schema = _schema_for(layer)
    if arguments is None:
        resolved = [(a.role, a.mention) for a in event.arguments.select_related("mention")]
    else:
        resolved = _argument_mentions(layer, arguments)
    new_type = event.event_type if event_type is None else event_type
    new_mode = event.mode if mode is None else mode
    if event_type is not None and event_type != event.event_type and mode is None:
        new_mode = ""  # modes belong to a type; a type change drops the old mode
    new_realis = event.realis if realis is None else realis
    # Validated as given: list() would turn a string "military" into its letters first.
    new_contexts = event.contexts if contexts is None else contexts
    validate_event(
        schema,
        event_type=new_type,
        mode=new_mode,
        realis=new_realis,
        contexts=new_contexts,
        arguments=resolved,
        layer_id=layer.pk,
    )
    _layer_touch(layer, expected_version)
    event.event_type, event.mode, event.realis, event.contexts = new_type, new_mode, new_realis, list(new_contexts)
    event.save()
    if arguments is not None:
        event.arguments.all().delete()
        EventArgument.objects.bulk_create(
            EventArgument(event=event, role=role, mention=mention) for role, mention in resolved
        )
    return event


@transaction.atomic
def event_delete(*, event: Event, expected_version: int | None = None) -> None:
    _layer_touch(event.layer, expected_version)
    event.delete()


# --- Stance ---------------------------------------------------------------------------------


@transaction.atomic
def stance_create(
    *,
    layer: Layer,
    label: str,
    holder_id: int | None = None,
    target_id: int | None = None,
    target_actor: Actor | None = None,
    scope: str = Stance.Scope.SENTENCE,
    evidence_start: int | None = None,
    evidence_end: int | None = None,
    evidence_text: str | None = None,
    score: float | None = None,
    provenance: dict[str, Any] | None = None,
    expected_version: int | None = None,
) -> Stance:
    """Add a stance; no holder means the article's author holds it. A target mention or actor is required."""
    schema = _schema_for(layer)
    validate_stance_label(schema, label)
    if scope not in Stance.Scope.values:
        raise InvalidAnnotation("scope", f"unknown scope {scope!r}; allowed: {', '.join(Stance.Scope.values)}")
    for field, mention_id in (("holder", holder_id), ("target", target_id)):
        if mention_id is not None and (not isinstance(mention_id, int) or isinstance(mention_id, bool)):
            raise InvalidAnnotation(field, f"mention id must be an integer, got {mention_id!r}")
    mentions = Mention.objects.in_bulk([i for i in (holder_id, target_id) if i is not None])
    for field, mention_id in (("holder", holder_id), ("target", target_id)):
        if mention_id is not None and (mention_id not in mentions or mentions[mention_id].layer_id != layer.pk):
            raise InvalidAnnotation(field, f"mention {mention_id} does not exist in this layer")
    if target_id is None and target_actor is None:
        raise InvalidAnnotation("target", "a stance needs a target mention or a target actor")
    quoted = ""
    if evidence_start is not None or evidence_end is not None:
        quoted = validate_span(layer.article.text, evidence_start, evidence_end, evidence_text, field="evidence")
    _layer_touch(layer, expected_version)
    return Stance.objects.create(
        layer=layer,
        label=label,
        holder_id=holder_id,
        target_id=target_id,
        target_actor=target_actor,
        scope=scope,
        evidence_start=evidence_start,
        evidence_end=evidence_end,
        evidence_text=quoted,
        score=score,
        provenance=provenance or {},
    )


@transaction.atomic
def stance_delete(*, stance: Stance, expected_version: int | None = None) -> None:
    _layer_touch(stance.layer, expected_version)
    stance.delete()


# --- Actors ---------------------------------------------------------------------------------


@transaction.atomic
def actor_upsert(
    *,
    name: str,
    kind: str,
    aliases: Sequence[str] = (),
    country: str = "",
    sector: str = "",
    wikidata_id: str = "",
    description: str = "",
) -> tuple[Actor, str]:
    """Create or update an actor by canonical name. Returns (actor, "created" | "updated" | "unchanged")."""
    if not name.strip():
        raise ValidationError({"name": ["is empty"]})
    if len(name.strip()) > 200:
        raise ValidationError({"name": [f"has {len(name.strip())} characters, over the limit of 200"]})
    if not isinstance(kind, str) or not re.fullmatch(CODE_PATTERN, kind):
        raise ValidationError({"kind": [f"{kind!r} is not an entity type code (such as GPE, ORG, PERSON)"]})
    # ASCII only: str.isupper() would let "ÄÖÜ" through.
    if country and not re.fullmatch(r"[A-Z]{3}", country):
        raise ValidationError({"country": [f"{country!r} is not an ISO 3166-1 alpha-3 code"]})
    if sector and sector not in Actor.Sector.values:
        raise ValidationError({"sector": [f"unknown sector {sector!r}; allowed: {', '.join(Actor.Sector.values)}"]})
    fields = {
        "kind": kind,
        "aliases": list(aliases),
        "country": country,
        "sector": sector,
        "wikidata_id": wikidata_id,
        "description": description,
    }
    actor = Actor.objects.select_for_update().filter(name=name.strip()).first()
    if actor is None:
        return Actor.objects.create(name=name.strip(), **fields), "created"
    if all(getattr(actor, key) == value for key, value in fields.items()):
        return actor, "unchanged"  # re-loading the same registry writes nothing
    for key, value in fields.items():
        setattr(actor, key, value)
    actor.save()
    return actor, "updated"


__all__ = [
    "ArticleInput",
    "ImportResult",
    "SchemaError",
    "actor_upsert",
    "article_check",
    "articles_create",
    "content_hash",
    "event_create",
    "event_delete",
    "event_update",
    "layer_for_annotator",
    "layer_gold",
    "layer_set_status",
    "membership_set",
    "mention_create",
    "mention_delete",
    "mention_update",
    "normalise_text",
    "project_create",
    "project_schema",
    "project_set_schema",
    "stance_create",
    "stance_delete",
]
