"""The training job's body, in a worker: gold exported as a dataset version, components trained,
the result registered and gated (`annotations.services.registry`). See `annotations.services.training`
for starting one."""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

from annotations.models import DatasetVersion, Job, Project, SuggestionDecision, TrainedModel
from annotations.services import jobs
from annotations.services.actors import actor_entries
from annotations.services.datasets import dataset_version_create
from annotations.services.registry import model_register
from annotations.services.training import check_training_data
from annotations.storage import stored_open_verified

logger = logging.getLogger(__name__)


def _read_rows(version: DatasetVersion) -> list[dict[str, Any]]:
    """The training data as stored (its sha256 checked first): what the model's record names."""
    with stored_open_verified(version.file.name, version.sha256) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _negatives(project: Project, rows: list[dict[str, Any]]) -> int:
    """Attach the rejected suggestions of the train articles to their rows (learning records)."""
    by_key = {row["id"]: row for row in rows if row.get("split") == "train"}
    decisions = SuggestionDecision.objects.filter(
        layer__article__project=project,
        layer__article__content_hash__in=list(by_key),
        decision=SuggestionDecision.Decision.REJECT,
    ).values_list("layer__article__content_hash", "item_kind", "label", "suggestion")
    count = 0
    for key, kind, label, snapshot in decisions:
        negative = _negative(kind, label, snapshot or {})
        if negative is not None:
            by_key[key].setdefault("negatives", []).append(negative)
            count += 1
    return count


def _negative(kind: str, label: str, snapshot: dict[str, Any]) -> dict[str, Any] | None:
    if kind == SuggestionDecision.ItemKind.EVENT and snapshot.get("trigger"):
        trigger = snapshot["trigger"]
        return {"kind": "event", "type": label, "start": trigger["start"], "end": trigger["end"]}
    if kind == SuggestionDecision.ItemKind.MENTION and "start" in snapshot:
        return {"kind": "mention", "label": label, "start": snapshot["start"], "end": snapshot["end"]}
    return None


def _progress(job_id: int) -> Any:
    last = [-1]

    def report(fraction: float) -> None:
        done = max(0, min(99, int(fraction * 100)))
        if done != last[0]:
            last[0] = done
            jobs.job_progress(job_id=job_id, done=done)

    return report


def training_run(*, job_id: int) -> TrainedModel | None:
    """The training job's body (in a worker). A second delivery of a job that already started means
    its worker died mid-way: the job fails, and nothing was registered."""
    from annotations.learning import TrainConfig, TrainingCancelled, train_components

    job = Job.objects.select_related("project").get(pk=job_id)
    if job.status == Job.Status.RUNNING:
        jobs.job_log(job_id=job_id, line="delivered again: the worker training this model stopped mid-way")
        jobs.job_fail(
            job_id=job_id,
            error="the worker running this training stopped mid-way (killed or lost); nothing was registered and "
            "the active pipeline is unchanged. Start a new training job.",
        )
        return None
    if not jobs.job_start(job_id=job_id):
        return None  # cancelled before it started, or finished
    project = job.project
    assert project is not None

    def log(line: str) -> None:
        jobs.job_log(job_id=job_id, line=line)

    try:
        check_training_data(project)
    except ValidationError as exc:
        jobs.job_fail(job_id=job_id, error="; ".join(exc.message_dict.get("gold", exc.messages)))
        return None
    version = f"m{job.pk}"
    dataset = dataset_version_create(
        project=project,
        name=f"training-{version}",
        format="jsonl",
        layer="gold",
        status="adjudicated",
        split="all",
        created_by=job.created_by,
    )
    rows = _read_rows(dataset)
    languages = Counter((row.get("language") or "en").split("-")[0] for row in rows)
    language = languages.most_common(1)[0][0]
    if len(languages) > 1:
        others = ", ".join(f"{n} in {lang}" for lang, n in sorted(languages.items()) if lang != language)
        log(f"training the {language} pipeline; articles in other languages are left out ({others})")
    rows = [row for row in rows if (row.get("language") or "en").split("-")[0] == language]
    train_rows = [row for row in rows if row.get("split") == "train"]
    dev_rows = [row for row in rows if row.get("split") == "dev"]
    fraction = float(job.params.get("fraction") or 1.0)
    if fraction < 1:
        kept = story_share(train_rows, fraction)
        log(
            f"training on {fraction:.0%} of the train split: {len(kept)} of {len(train_rows)} article(s), whole stories"
        )
        train_rows = kept
    negatives = _negatives(project, rows)
    log(
        f"training data: dataset version {dataset.name!r} (sha256 {dataset.sha256[:12]}…): {len(train_rows)} train "
        f"and {len(dev_rows)} dev article(s); {sum(r.get('split') == 'test' for r in rows)} test article(s) "
        f"left out; {negatives} rejected suggestion(s) as negatives"
    )
    if not dev_rows:
        log("the dev split is empty: a deterministic story-grouped share of the train articles is held out as dev")
    base_model = settings.SPACY_MODEL if language == "en" else settings.SPACY_MODELS.get(language, "")
    config = TrainConfig(ner_iterations=settings.TRAIN_NER_ITERATIONS, use_plover=settings.TRAIN_USE_PLOVER)
    with tempfile.TemporaryDirectory(prefix="workbench-train-") as tmp:
        out_dir = Path(tmp) / version
        try:
            result = train_components(
                train_rows,
                dev_rows,
                schema=project.label_schema,
                actors=actor_entries(),
                language=language,
                base_model=base_model,
                out_dir=out_dir,
                config=config,
                log=log,
                progress=_progress(job_id),
                should_stop=lambda: jobs.job_cancelled(job_id=job_id),
            )
        except TrainingCancelled:
            log("cancelled: nothing was registered")
            return None
        if jobs.job_cancelled(job_id=job_id):
            log("cancelled: nothing was registered")
            return None
        dev_keys = set(result.dev_keys) or {row["id"] for row in dev_rows}
        model, figures = model_register(
            project=project,
            job=job,
            version=version,
            language=language,
            base_model=base_model,
            dataset=dataset,
            result=result,
            out_dir=out_dir,
            dev_rows=[row for row in rows if row["id"] in dev_keys],
            train_articles=len([row for row in train_rows if row["id"] not in dev_keys]),
            log=log,
        )
    Job.objects.filter(pk=job_id).update(
        model_version=version,
        result={**figures, "seconds": result.seconds, "peak_memory_mb": result.peak_memory_mb},
    )
    jobs.job_succeed(job_id=job_id, counts={"train_articles": model.train_articles, "dev_articles": model.dev_articles})
    return model


def story_share(rows: list[dict[str, Any]], fraction: float) -> list[dict[str, Any]]:
    """A deterministic share of the rows, whole stories at a time (in the order of their keys' hash)
    until `fraction` of the articles are in."""
    stories: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        stories.setdefault(row.get("story") or row["id"], []).append(row)
    kept: list[dict[str, Any]] = []
    for key in sorted(stories, key=lambda k: hashlib.sha256(k.encode()).hexdigest()):
        if len(kept) >= fraction * len(rows):
            break
        kept += stories[key]
    return kept
