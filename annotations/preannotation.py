"""Pre-annotation jobs: start one, split it into chunks, run a chunk, replace a machine layer.

The web process only creates the job and enqueues it after commit; the spaCy pipeline is built
in worker processes (once per process and project schema / actor registry state). Re-running a
model version replaces that version's machine layer per article, in one transaction, so a
retried or redelivered chunk never duplicates anything.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django.db.models import F

from annotations import jobs
from annotations.errors import InvalidAnnotation
from annotations.models import Actor, Article, Event, EventArgument, Job, JobChunk, Layer, Mention, Project, Stance
from annotations.schema import LabelSchema
from annotations.validation import validate_event, validate_span

if TYPE_CHECKING:
    from annotations.nlp import DocumentSuggestions, Preannotator

logger = logging.getLogger(__name__)

# Built pipelines per worker process, keyed by what they are built from.
_PREANNOTATORS: dict[str, Preannotator] = {}
_MAX_CACHED = 4


class BrokerUnavailable(Exception):
    """The task broker could not be reached; the job was marked failed."""


# --- Starting a job (web process, commands, admin) ------------------------------------------


def preannotation_start(
    *,
    project: Project,
    article_ids: Sequence[int] | None = None,
    created_by: Any = None,
    chunk_size: int | None = None,
) -> Job:
    """Create a pre-annotation job for the project (all its articles unless ids are given).

    The job is enqueued after the surrounding transaction commits. If the broker can't be
    reached the job is marked failed with the reason, and nothing else is written.
    """
    size = chunk_size or settings.PREANNOTATE_CHUNK_SIZE
    if size < 1:
        raise ValidationError({"chunk_size": [f"must be at least 1, got {size}"]})
    project_ids = list(project.articles.order_by("id").values_list("id", flat=True))
    if article_ids is None:
        ids = project_ids
    else:
        wanted = list(dict.fromkeys(int(i) for i in article_ids))
        unknown = sorted(set(wanted) - set(project_ids))
        if unknown:
            raise ValidationError({"articles": [f"not in project {project.slug!r}: {', '.join(map(str, unknown))}"]})
        ids = wanted
    with transaction.atomic():
        job = jobs.job_create(
            kind=Job.Kind.PREANNOTATE,
            project=project,
            params={"article_ids": ids, "chunk_size": size, "batch_size": settings.PREANNOTATE_BATCH_SIZE},
            total=len(ids),
            created_by=created_by,
        )
        transaction.on_commit(lambda: enqueue_job(job_id=job.pk))
    return job


def publish_task(task: Any, *args: Any) -> None:
    from kombu.exceptions import OperationalError as KombuOperationalError

    try:
        task.apply_async(args=args, retry=True, queue=settings.CELERY_TASK_DEFAULT_QUEUE)
    except (KombuOperationalError, OSError) as exc:
        raise BrokerUnavailable(
            f"could not reach the task broker ({_broker_display()}): {str(exc).rstrip('.')}. "
            "Start Redis (or unset CELERY_BROKER_URL for the embedded broker) and start the job again."
        ) from exc


def _broker_display() -> str:
    url = settings.CELERY_BROKER_URL
    if "@" in url:  # hide credentials
        scheme, rest = url.split("://", 1)
        url = f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def enqueue_job(*, job_id: int) -> None:
    from annotations.tasks import preannotate_job

    try:
        publish_task(preannotate_job, job_id)
    except BrokerUnavailable as exc:
        jobs.job_fail(job_id=job_id, error=str(exc))
        logger.error("job %s: %s", job_id, exc)


# --- Planning (worker) ----------------------------------------------------------------------


def preannotation_plan(*, job_id: int) -> None:
    """Split the job into chunks and enqueue one task per chunk (a redelivered plan is a no-op)."""
    from annotations.tasks import preannotate_chunk

    job = Job.objects.get(pk=job_id)
    ids = job.params.get("article_ids", [])
    chunks = jobs.chunked(ids, int(job.params.get("chunk_size") or settings.PREANNOTATE_CHUNK_SIZE))
    if not jobs.job_start(job_id=job_id, chunks=chunks):
        return
    if not chunks:
        jobs.job_succeed(job_id=job_id, counts={"articles": 0})
        return
    jobs.job_log(job_id=job_id, line=f"{len(ids)} article(s) in {len(chunks)} chunk(s)")
    for chunk_id in JobChunk.objects.filter(job_id=job_id).order_by("index").values_list("id", flat=True):
        try:
            publish_task(preannotate_chunk, chunk_id)
        except BrokerUnavailable as exc:
            jobs.job_fail(job_id=job_id, error=str(exc))
            return


def preannotation_resume(*, job_id: int) -> int:
    """Re-enqueue the chunks of a running job that are not done (after a broker without redelivery
    lost a killed worker's message). Running a chunk twice is harmless. Returns how many."""
    from annotations.tasks import preannotate_chunk

    pending = list(JobChunk.objects.filter(job_id=job_id, done=False).values_list("id", flat=True))
    for chunk_id in pending:
        publish_task(preannotate_chunk, chunk_id)
    return len(pending)


# --- Running a chunk (worker) ---------------------------------------------------------------


def _actor_entries() -> tuple[Any, ...]:
    from annotations.nlp import ActorEntry

    rows = Actor.objects.order_by("name").values_list("name", "kind", "aliases")
    return tuple(ActorEntry(name=name, kind=kind, aliases=tuple(aliases or ())) for name, kind, aliases in rows)


def get_preannotator(*, schema: dict[str, Any], actors: tuple[Any, ...], model: str | None = None) -> Preannotator:
    """The pipeline for this schema and actor registry, built once per worker process."""
    from annotations.nlp import Preannotator

    model = model or settings.SPACY_MODEL
    key_source = json.dumps([schema, [(a.name, a.kind, list(a.aliases)) for a in actors], model], sort_keys=True)
    key = hashlib.sha256(key_source.encode()).hexdigest()
    annotator = _PREANNOTATORS.get(key)
    if annotator is None:
        if len(_PREANNOTATORS) >= _MAX_CACHED:
            _PREANNOTATORS.pop(next(iter(_PREANNOTATORS)))
        annotator = Preannotator(schema=schema, actors=actors, model=model)
        _PREANNOTATORS[key] = annotator
    return annotator


def preannotation_run_chunk(*, chunk_id: int) -> Counter[str]:
    """Annotate one chunk's articles with `nlp.pipe` and replace their machine layers."""
    chunk = JobChunk.objects.select_related("job__project").get(pk=chunk_id)
    job = chunk.job
    counts: Counter[str] = Counter()
    if chunk.done or job.status != Job.Status.RUNNING:
        return counts
    JobChunk.objects.filter(pk=chunk_id).update(attempts=chunk.attempts + 1)
    project = job.project
    assert project is not None
    annotator = get_preannotator(schema=project.label_schema, actors=_actor_entries())
    if chunk.index == 0 or chunk.attempts > 0:
        for line in annotator.log:
            jobs.job_log(job_id=job.pk, line=line)
    if chunk.attempts > 0:
        jobs.job_log(job_id=job.pk, line=f"chunk {chunk.index}: delivery {chunk.attempts + 1}, replacing its layers")
    articles = list(Article.objects.filter(pk__in=chunk.article_ids).order_by("pk").only("pk", "text", "language"))
    counts["missing"] = len(set(chunk.article_ids) - {a.pk for a in articles})
    schema = LabelSchema(project.label_schema)
    actor_ids = dict(Actor.objects.values_list("name", "pk"))
    batch_size = int(job.params.get("batch_size") or settings.PREANNOTATE_BATCH_SIZE)
    results = annotator.annotate(((a.text, a.language) for a in articles), batch_size=batch_size)

    def write(article: Article, suggestions: DocumentSuggestions) -> Counter[str]:
        return machine_layer_replace(
            article=article,
            model_version=annotator.model_version,
            suggestions=suggestions,
            schema=schema,
            actor_ids=actor_ids,
        )

    with _layer_writer() as submit:
        pending = []
        for article, suggestions in zip(articles, results, strict=True):
            if suggestions.skipped:
                counts["skipped"] += 1
                jobs.job_log(job_id=job.pk, line=f"article {article.pk} skipped: {suggestions.skipped}")
            pending.append(submit(write, article, suggestions))
        for result in pending:
            counts.update(result())
    counts["articles"] += len(articles)
    jobs.job_chunk_finish(chunk_id=chunk_id, counts=+counts, model_version=annotator.model_version)
    return counts


@contextmanager
def _layer_writer() -> Iterator[Callable[..., Callable[[], Counter[str]]]]:
    """Where machine layers get written: on a thread of their own while `nlp.pipe` parses the
    next texts (the writes wait on the database, so they overlap the parse almost for free).

    Each article is still its own transaction, in order. Inside an outer transaction (eager runs
    in tests, or a caller's atomic block) a second connection couldn't see the caller's rows,
    so the writes then run inline.
    """
    if connection.in_atomic_block:

        def inline(fn: Callable[..., Counter[str]], *args: Any) -> Callable[[], Counter[str]]:
            result = fn(*args)
            return lambda: result

        yield inline
        return
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="layer-writer")
    try:
        yield lambda fn, *args: executor.submit(fn, *args).result
    finally:
        # The thread's own database connection goes with it.
        executor.submit(connections.close_all).result()
        executor.shutdown(wait=True)


def _machine_layer_clear(layer_id: int) -> None:
    """Delete a machine layer's contents in five statements (no per-row cascade collection).

    A machine layer's mentions are referenced only by its own events and stances (the write
    services refuse cross-layer references), so deleting by layer is complete.
    """
    EventArgument.objects.filter(event__layer_id=layer_id)._raw_delete(using="default")
    Stance.objects.filter(layer_id=layer_id)._raw_delete(using="default")
    Event.objects.filter(layer_id=layer_id)._raw_delete(using="default")
    Mention.objects.filter(layer_id=layer_id)._raw_delete(using="default")
    Layer.objects.filter(pk=layer_id).update(version=F("version") + 1)


@transaction.atomic
def machine_layer_replace(
    *,
    article: Article,
    model_version: str,
    suggestions: DocumentSuggestions,
    schema: LabelSchema,
    actor_ids: dict[str, int],
) -> Counter[str]:
    """Replace the article's machine layer for this model version with these suggestions.

    Suggestions that don't fit the text or the schema are dropped and counted, never stored.
    A skipped article gets no layer (and loses an old one of the same version).
    """
    counts: Counter[str] = Counter()
    # Lock the article row so two deliveries of one chunk replace the layer one after the other.
    Article.objects.select_for_update().filter(pk=article.pk).values_list("pk", flat=True).first()
    layer = Layer.objects.filter(article=article, kind=Layer.Kind.MACHINE, model_version=model_version).first()
    if layer is not None:
        _machine_layer_clear(layer.pk)
        if suggestions.skipped:
            layer.delete()
    if suggestions.skipped:
        return counts
    if layer is None:
        layer = Layer.objects.create(
            article=article, kind=Layer.Kind.MACHINE, model_version=model_version, status=Layer.Status.DONE
        )
    text = article.text

    mentions: list[Mention | None] = []
    seen: set[tuple[int, int, str]] = set()
    for s in suggestions.mentions:
        key = (s.start, s.end, s.label)
        try:
            if s.label not in schema.entity_types:
                raise InvalidAnnotation("label", s.label)
            validate_span(text, s.start, s.end, s.text)
        except InvalidAnnotation:
            mentions.append(None)
            counts["dropped"] += 1
            continue
        if key in seen:
            mentions.append(None)
            continue
        seen.add(key)
        mentions.append(
            Mention(
                layer=layer,
                label=s.label,
                start=s.start,
                end=s.end,
                text=s.text,
                score=s.score,
                actor_id=actor_ids.get(s.actor_name) if s.actor_name else None,
            )
        )
    Mention.objects.bulk_create([m for m in mentions if m is not None])
    counts["mentions"] += sum(1 for m in mentions if m is not None)

    events: list[Event] = []
    event_arguments: list[list[tuple[str, Mention]]] = []
    for e in suggestions.events:
        arguments = [(a.role, mentions[a.mention]) for a in e.arguments if 0 <= a.mention < len(mentions)]
        try:
            if any(m is None for _, m in arguments):
                raise InvalidAnnotation("arguments", "argument points at a dropped mention")
            resolved = [(role, m) for role, m in arguments if m is not None]
            validate_span(text, e.trigger_start, e.trigger_end, e.trigger_text, field="trigger")
            validate_event(
                schema,
                event_type=e.event_type,
                mode=e.mode,
                realis=e.realis,
                contexts=e.contexts,
                arguments=resolved,
                layer_id=layer.pk,
            )
        except InvalidAnnotation:
            counts["dropped"] += 1
            continue
        events.append(
            Event(
                layer=layer,
                event_type=e.event_type,
                trigger_start=e.trigger_start,
                trigger_end=e.trigger_end,
                trigger_text=e.trigger_text,
                mode=e.mode,
                realis=e.realis,
                contexts=list(e.contexts),
                score=e.score,
            )
        )
        event_arguments.append(resolved)
    Event.objects.bulk_create(events)
    EventArgument.objects.bulk_create(
        EventArgument(event=event, role=role, mention=mention)
        for event, arguments in zip(events, event_arguments, strict=True)
        for role, mention in arguments
    )
    counts["events"] += len(events)

    stances: list[Stance] = []
    for st in suggestions.stances:
        holder = mentions[st.holder] if st.holder is not None and 0 <= st.holder < len(mentions) else None
        target = mentions[st.target] if 0 <= st.target < len(mentions) else None
        try:
            if target is None or (st.holder is not None and holder is None):
                raise InvalidAnnotation("target", "stance points at a dropped mention")
            if st.label not in schema.stance_labels:
                raise InvalidAnnotation("label", st.label)
            validate_span(text, st.evidence_start, st.evidence_end, st.evidence_text, field="evidence")
        except InvalidAnnotation:
            counts["dropped"] += 1
            continue
        stances.append(
            Stance(
                layer=layer,
                holder=holder,
                target=target,
                label=st.label,
                scope=st.scope if st.scope in Stance.Scope.values else Stance.Scope.SENTENCE,
                evidence_start=st.evidence_start,
                evidence_end=st.evidence_end,
                evidence_text=st.evidence_text,
                score=st.score,
            )
        )
    Stance.objects.bulk_create(stances)
    counts["stances"] += len(stances)
    return counts
