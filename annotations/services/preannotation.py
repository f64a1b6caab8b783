"""Pre-annotation jobs: start one, split it into chunks, run a chunk, replace a machine layer.

The web process only creates the job and enqueues it after commit; the spaCy pipeline is built
in worker processes (once per process and project schema / actor registry state). Re-running a
model version replaces that version's machine layer per article, in one transaction (a batch of
articles at a time), so a retried or redelivered chunk never duplicates anything.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from annotations.models import Actor, Article, Job, JobChunk, Project, SuggestionDecision
from annotations.schema import LabelSchema
from annotations.services import jobs

if TYPE_CHECKING:
    from annotations.nlp import DocumentSuggestions, Preannotator
from annotations.services.actors import actor_entries
from annotations.services.dates import dates_ensure
from annotations.services.jobs import BrokerUnavailable, Task, task_send
from annotations.services.machine_layers import machine_layer_writer, machine_layers_replace, suggestion_key
from annotations.services.registry import learned_of, pipeline_parts, pipeline_version

logger = logging.getLogger(__name__)


# Built pipelines per worker process, keyed by what they are built from.
_PREANNOTATORS: dict[str, Preannotator] = {}


_MAX_CACHED = 4


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
    languages = dict(project.articles.values_list("id", "language"))
    if article_ids is None:
        ids = sorted(languages)
    else:
        ids = list(dict.fromkeys(int(i) for i in article_ids))
        unknown = sorted(set(ids) - set(languages))
        if unknown:
            raise ValidationError({"articles": [f"not in project {project.slug!r}: {', '.join(map(str, unknown))}"]})
    # Chunks of one language each (as far as the sizes go): a worker then loads each model once.
    ids.sort(key=lambda pk: (languages[pk], pk))
    with transaction.atomic():
        job = jobs.job_create(
            kind=Job.Kind.PREANNOTATE,
            project=project,
            params={"article_ids": ids, "chunk_size": size, "batch_size": settings.PREANNOTATE_BATCH_SIZE},
            total=len(ids),
            created_by=created_by,
        )
        transaction.on_commit(lambda: jobs.job_enqueue(job_id=job.pk, task=Task.PREANNOTATE_JOB))
    return job


def preannotation_plan(*, job_id: int) -> None:
    """Split the job into chunks and enqueue one task per chunk (a redelivered plan is a no-op)."""
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
            task_send(Task.PREANNOTATE_CHUNK, chunk_id)
        except BrokerUnavailable as exc:
            jobs.job_fail(job_id=job_id, error=str(exc))
            return


def language_of(article: Article) -> str:
    """The article's language as the pipelines are keyed ("fr-FR" → "fr")."""
    return (article.language or "").strip().lower().split("-")[0]


def get_preannotator(
    *,
    schema: dict[str, Any],
    actors: tuple[Any, ...],
    model: str | None = None,
    language: str = "en",
    parts: dict[str, tuple[str, Path, list[str]]] | None = None,
    log: Callable[[str], None] | None = None,
) -> Preannotator:
    """The pipeline for this schema, actor registry, language and trained parts (the registry's
    active pipeline), built once per worker process. A trained part that fails to load is left out
    (the rules run for it) and `log` says why."""
    from annotations.learning import ModelLoadError
    from annotations.nlp import Preannotator

    # SPACY_MODEL stays the English knob; SPACY_MODELS names the others
    model = model or (settings.SPACY_MODEL if language == "en" else settings.SPACY_MODELS[language])
    parts = dict(parts or {})
    key_source = json.dumps(
        [
            schema,
            [(a.name, a.kind, list(a.aliases)) for a in actors],
            model,
            language,
            sorted((name, version, str(path), retired) for name, (version, path, retired) in parts.items()),
        ],
        sort_keys=True,
    )
    key = hashlib.sha256(key_source.encode()).hexdigest()
    annotator = _PREANNOTATORS.get(key)
    if annotator is None:
        learned = None
        while parts:
            try:
                learned = learned_of(parts, schema)
                break
            except ModelLoadError as exc:
                if log is not None:
                    version = parts[exc.component][0]
                    log(f"{exc.component} of model {version} can't be loaded ({exc}); the rules run for it")
                parts.pop(exc.component)
        if len(_PREANNOTATORS) >= _MAX_CACHED:
            _PREANNOTATORS.pop(next(iter(_PREANNOTATORS)))
        annotator = Preannotator(
            schema=schema,
            actors=actors,
            model=model,
            language=language,
            learned=learned,
            learned_version=pipeline_version(parts),
        )
        _PREANNOTATORS[key] = annotator
    return annotator


def rejected_keys(article_ids: Sequence[int]) -> dict[int, set[tuple[Any, ...]]]:
    """Per article, the suggestions annotators rejected there (their newest decision on each), as
    the keys `machine_layers_replace` leaves out: no model version suggests them again."""
    decisions = (
        SuggestionDecision.objects.filter(layer__article_id__in=article_ids)
        .order_by("created_at", "pk")
        .values_list("layer__article_id", "item_kind", "decision", "label", "suggestion")
    )
    newest: dict[tuple[int, tuple[Any, ...]], str] = {}
    for article_id, kind, decision, label, snapshot in decisions:
        key = suggestion_key(kind, label, snapshot or {})
        if key is not None:
            newest[(article_id, key)] = decision
    keys: dict[int, set[tuple[Any, ...]]] = {}
    for (article_id, key), decision in newest.items():
        if decision == SuggestionDecision.Decision.REJECT:
            keys.setdefault(article_id, set()).add(key)
    return keys


def preannotation_run_chunk(*, chunk_id: int) -> Counter[str]:
    """Annotate one chunk's articles with `nlp.pipe` and replace their machine layers."""
    counts: Counter[str] = Counter()
    chunk = jobs.job_chunk_begin(chunk_id=chunk_id)
    if chunk is None:  # done, its job over, or running elsewhere
        return counts
    job = chunk.job
    project = job.project
    assert project is not None
    if chunk.attempts > 1:
        jobs.job_log(job_id=job.pk, line=f"chunk {chunk.index}: delivery {chunk.attempts}, replacing its layers")
    articles = list(Article.objects.filter(pk__in=chunk.article_ids).order_by("pk").only("pk", "text", "language"))
    counts["missing"] = len(set(chunk.article_ids) - {a.pk for a in articles})
    schema = LabelSchema(project.label_schema)
    actor_ids = dict(Actor.objects.values_list("name", "pk"))
    batch_size = int(job.params.get("batch_size") or settings.PREANNOTATE_BATCH_SIZE)
    by_language: dict[str, list[Article]] = {}
    for article in articles:
        by_language.setdefault(language_of(article), []).append(article)
    actors = actor_entries()
    rejected = rejected_keys([a.pk for a in articles])
    model_version = ""
    logged: set[str] = set()

    def log(line: str) -> None:
        if line not in logged:  # once per chunk
            logged.add(line)
            jobs.job_log(job_id=job.pk, line=line)

    for language, group_articles in sorted(by_language.items()):
        if language not in settings.SPACY_MODELS:
            for article in group_articles:
                counts["skipped"] += 1
                jobs.job_log(job_id=job.pk, line=f"article {article.pk} skipped: no pipeline for {article.language!r}")
            continue
        parts = pipeline_parts(project=project, language=language, log=log)
        annotator = get_preannotator(
            schema=project.label_schema, actors=actors, language=language, parts=parts, log=log
        )
        model_version = model_version or annotator.model_version
        if chunk.index == 0 or chunk.attempts > 1:
            for line in annotator.log:
                jobs.job_log(job_id=job.pk, line=line)
        _annotate_and_write(annotator, group_articles, schema, actor_ids, rejected, batch_size, job.pk, counts)
    counts["articles"] += len(articles)
    dates_ensure(project=project, article_ids=[a.pk for a in articles])  # the new DATE mentions' values
    jobs.job_chunk_finish(chunk_id=chunk_id, counts=+counts, model_version=model_version)
    return counts


def _annotate_and_write(
    annotator: Preannotator,
    articles: list[Article],
    schema: LabelSchema,
    actor_ids: dict[str, int],
    rejected: dict[int, set[tuple[Any, ...]]],
    batch_size: int,
    job_id: int,
    counts: Counter[str],
) -> None:
    results = annotator.annotate(((a.text, language_of(a)) for a in articles), batch_size=batch_size)

    def write(group: list[tuple[Article, DocumentSuggestions]]) -> Counter[str]:
        return machine_layers_replace(
            results=group,
            model_version=annotator.model_version,
            schema=schema,
            actor_ids=actor_ids,
            rejected=rejected,
        )

    # Written a batch at a time: one transaction and a handful of statements per batch.
    with machine_layer_writer() as submit:
        pending = []
        group: list[tuple[Article, DocumentSuggestions]] = []
        for article, suggestions in zip(articles, results, strict=True):
            if suggestions.skipped:
                counts["skipped"] += 1
                jobs.job_log(job_id=job_id, line=f"article {article.pk} skipped: {suggestions.skipped}")
            group.append((article, suggestions))
            if len(group) == batch_size:
                pending.append(submit(write, group))
                group = []
        if group:
            pending.append(submit(write, group))
        for result in pending:
            counts.update(result())
