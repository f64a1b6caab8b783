"""The model registry and its gate: which trained component runs, and why.

A training run is registered as a `TrainedModel` (its archive in the storage, checksummed) with one
`ModelComponent` per component. The gate compares, on the same dev articles, the active pipeline
(the rules, or the rules merged with the components that won before) with the same pipeline where
one component is the candidate's: the candidate becomes active for that component only if its dev
F1 is higher. Each comparison is kept on the component (`dev`, `baseline`, `compared_with`,
`decision`), which is what the admin shows.

Pre-annotation runs the active pipeline (`pipeline_load`): each component from the model where it
last won, the rules elsewhere. A component whose file is missing or corrupt falls back to the one
it replaced, and the job log says why.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from annotations.models import DatasetVersion, Job, ModelComponent, Project, TrainedModel
from annotations.schema import LabelSchema
from annotations.services.actors import actor_entries
from annotations.storage import StorageError, local_copy, stored_save_dir

logger = logging.getLogger(__name__)

Status = ModelComponent.Status
COMPONENTS = tuple(ModelComponent.Name.values)
RULES = "rules"


def schema_labels(schema: dict[str, Any]) -> dict[str, set[str]]:
    """What each component can name under a schema: entity codes, event types, roles, stance labels."""
    view = LabelSchema(schema)
    return {
        "mentions": set(view.entity_types),
        "triggers": set(view.event_types),
        "arguments": {role for event_type in view.event_types.values() for role in event_type.roles},
        "stance": set(view.stance_labels),
    }


def active_components(*, project: Project, language: str) -> dict[str, ModelComponent]:
    rows = ModelComponent.objects.filter(
        model__project=project, model__language=language, status=Status.ACTIVE
    ).select_related("model")
    return {component.name: component for component in rows}


def _fallbacks(component: ModelComponent) -> list[ModelComponent]:
    """The components this one replaced, newest first: what runs when its file can't be loaded."""
    return list(
        ModelComponent.objects.filter(
            model__project_id=component.model.project_id,
            model__language=component.model.language,
            name=component.name,
            status=Status.RETIRED,
            details__retired="replaced",
            activated_at__lt=component.activated_at,
        )
        .select_related("model")
        .order_by("-activated_at")
    )


def model_status_refresh(models: Iterable[TrainedModel]) -> None:
    for model in models:
        statuses = set(model.components.values_list("status", flat=True))
        if Status.ACTIVE in statuses:
            status = TrainedModel.Status.ACTIVE
        elif Status.RETIRED in statuses:
            status = TrainedModel.Status.RETIRED
        else:
            status = TrainedModel.Status.CANDIDATE
        if status != model.status:
            TrainedModel.objects.filter(pk=model.pk).update(status=status)
            model.status = status


def _retire(component: ModelComponent, why: str, decision: str) -> None:
    component.status = Status.RETIRED
    component.retired_at = timezone.now()
    component.details = {**component.details, "retired": why}
    component.decision = f"{component.decision}\n{decision}".strip()
    component.save(update_fields=["status", "retired_at", "details", "decision"])


@transaction.atomic
def component_activate(*, component: ModelComponent, decision: str) -> ModelComponent:
    """Make this component the active one of its kind (the one it replaces is retired)."""
    if component.status == Status.SKIPPED:
        raise ValueError(f"{component} was not trained: nothing to activate")
    previous = active_components(project=component.model.project, language=component.model.language).get(component.name)
    if previous is not None and previous.pk != component.pk:
        _retire(previous, "replaced", f"replaced by {component.model.version}")
    component.status = Status.ACTIVE
    component.activated_at = timezone.now()
    component.retired_at = None
    component.details = {key: value for key, value in component.details.items() if key != "retired"}
    component.decision = f"{component.decision}\n{decision}".strip()
    component.save(update_fields=["status", "activated_at", "retired_at", "details", "decision"])
    model_status_refresh([component.model] + ([previous.model] if previous is not None else []))
    return component


@transaction.atomic
def component_rollback(*, component: ModelComponent, by: str) -> ModelComponent | None:
    """Retire an active component; the one it replaced runs again (or the rules). Returns that one."""
    if component.status != Status.ACTIVE:
        raise ValueError(f"{component} is {component.status}: only an active component can be rolled back")
    before = _fallbacks(component)
    _retire(component, "rolled back", f"rolled back by {by}")
    model_status_refresh([component.model])
    if not before:
        return None
    return component_activate(component=before[0], decision=f"active again: {component.model.version} rolled back")


@transaction.atomic
def models_schema_changed(*, project: Project) -> list[ModelComponent]:
    """After a schema change: each component stops naming the labels the schema lost; one left with
    none of its labels is retired. Returns the components that changed."""
    current = schema_labels(project.label_schema)
    changed = []
    components = ModelComponent.objects.filter(model__project=project).exclude(status=Status.SKIPPED)
    for component in components.select_related("model"):
        gone = sorted(set(component.labels) - current[component.name])
        if gone == sorted(component.retired_labels):
            continue
        component.retired_labels = gone
        component.save(update_fields=["retired_labels"])
        if component.labels and set(component.labels) <= set(gone) and component.status != Status.RETIRED:
            _retire(component, "schema", f"the schema no longer has its labels ({', '.join(gone)})")
            model_status_refresh([component.model])
        changed.append(component)
    return changed


# --- Loading a pipeline -------------------------------------------------------------------------

# {component: (model version, local path, retired labels)}
Parts = dict[str, tuple[str, Path, list[str]]]


# Stored model archives this process has fetched and checked, by (name, sha256): `local_copy`
# hashes a cached copy again on every call, which a pre-annotation chunk need not pay each time.
_LOCAL_COPIES: dict[tuple[str, str], Path] = {}


def _component_path(component: ModelComponent) -> Path:
    key = (component.model.file, component.model.sha256)
    if key not in _LOCAL_COPIES or not _LOCAL_COPIES[key].exists():
        _LOCAL_COPIES[key] = local_copy(*key)
    return _LOCAL_COPIES[key] / component.path


def pipeline_parts(*, project: Project, language: str, log: Callable[[str], None]) -> Parts:
    """The active pipeline's trained parts as {component: (model version, local path, retired labels)}:
    each fetched from the storage (checksum verified, cached per process). A part that can't be
    fetched falls back to the one it replaced, then to the rules; `log` says why."""
    parts: Parts = {}
    for name, component in sorted(active_components(project=project, language=language).items()):
        for candidate in [component, *_fallbacks(component)]:
            try:
                parts[name] = (candidate.model.version, _component_path(candidate), list(candidate.retired_labels))
                break
            except StorageError as exc:
                nxt = "the previous model" if candidate is not component else "the rules"
                log(f"{name} of model {candidate.model.version} can't be loaded ({exc}); trying {nxt}")
        else:
            log(f"{name}: no trained part could be loaded; the rules run")
    return parts


def pipeline_version(parts: Parts) -> str:
    """Names every trained part: "mentions=m4,triggers=m7" (the rules' own version comes first)."""
    return ",".join(f"{name}={parts[name][0]}" for name in COMPONENTS if name in parts)


def learned_of(parts: Parts, schema: dict[str, Any]) -> Any:
    """The parts loaded as `LearnedComponents` (None when the rules run alone)."""
    from annotations.learning import LearnedComponents

    if not parts:
        return None
    return LearnedComponents.load(
        {name: path for name, (_, path, _) in parts.items()},
        schema=schema,
        retired_labels={name: retired for name, (_, _, retired) in parts.items()},
    )


def pipeline_scores(
    rows: list[dict[str, Any]], *, schema: dict[str, Any], language: str, learned: Any, version: str
) -> dict[str, dict[str, Any]]:
    from annotations.learning import evaluate
    from annotations.nlp import Preannotator

    annotator = Preannotator(
        schema=schema, actors=actor_entries(), language=language, learned=learned, learned_version=version
    )
    return evaluate(rows, annotator)


# --- Registering a training run: the gate -------------------------------------------------------


def _f1(scores: dict[str, Any], name: str) -> float:
    return float(scores.get(name, {}).get("f1", 0.0))


def model_register(
    *,
    project: Project,
    job: Job,
    version: str,
    language: str,
    base_model: str,
    dataset: DatasetVersion,
    result: Any,
    out_dir: Path,
    dev_rows: list[dict[str, Any]],
    train_articles: int,
    log: Callable[[str], None],
) -> tuple[TrainedModel, dict[str, Any]]:
    """Store the trained files, register the model, and let the gate decide each component.

    Returns the model and the dev figures: the pipeline before (`before`), each candidate component
    in it (`candidates`), and the active pipeline after the gate (`after`)."""
    from annotations.learning import ModelLoadError

    schema = project.label_schema
    stored = stored_save_dir(f"models/{project.slug}/{version}.tar.gz", out_dir)
    active = pipeline_parts(project=project, language=language, log=log)
    baseline = pipeline_scores(
        dev_rows, schema=schema, language=language, learned=learned_of(active, schema), version=pipeline_version(active)
    )
    log(
        f"dev ({len(dev_rows)} article(s)), active pipeline {pipeline_version(active) or RULES}: "
        + ", ".join(f"{name} F1 {_f1(baseline, name):.3f}" for name in COMPONENTS)
    )
    outcomes: dict[str, tuple[dict[str, Any], str]] = {}
    for name, component_result in result.components.items():
        if not component_result.trained:
            continue
        trial = dict(active)
        trial[name] = (version, out_dir / component_result.path, [])
        try:
            scores = pipeline_scores(
                dev_rows,
                schema=schema,
                language=language,
                learned=learned_of(trial, schema),
                version=pipeline_version(trial),
            )
        except ModelLoadError as exc:
            outcomes[name] = ({}, f"could not be loaded back after training ({exc})")
            continue
        outcomes[name] = (scores.get(name, {}), "")
    with transaction.atomic():
        model = TrainedModel.objects.create(
            project=project,
            version=version,
            language=language,
            base_model=base_model,
            dataset=dataset,
            dataset_sha256=dataset.sha256,
            schema_version=project.schema_version,
            file=stored.name,
            sha256=stored.sha256,
            size=stored.size,
            train_articles=train_articles,
            dev_articles=len(dev_rows),
            dev_keys=sorted(row["id"] for row in dev_rows),
            seconds=round(result.seconds, 2),
            peak_memory_mb=round(result.peak_memory_mb, 1),
            job=job,
            created_by=job.created_by,
        )
        for name in COMPONENTS:
            component_result = result.components.get(name)
            _gate(model, name, component_result, outcomes.get(name), active, baseline, log)
        model_status_refresh([model])
    now = pipeline_parts(project=project, language=language, log=log)
    after = baseline
    if now != active:
        after = pipeline_scores(
            dev_rows, schema=schema, language=language, learned=learned_of(now, schema), version=pipeline_version(now)
        )
    log(
        f"dev, active pipeline now {pipeline_version(now) or RULES}: "
        + ", ".join(f"{name} F1 {_f1(after, name):.3f}" for name in COMPONENTS)
    )
    figures = {
        "dev_articles": len(dev_rows),
        "before": {"pipeline": pipeline_version(active) or RULES, "scores": baseline},
        "candidates": {name: scores for name, (scores, _) in outcomes.items()},
        "after": {"pipeline": pipeline_version(now) or RULES, "scores": after},
    }
    return model, figures


def _gate(
    model: TrainedModel,
    name: str,
    component_result: Any,
    outcome: tuple[dict[str, Any], str] | None,
    active: Parts,
    baseline: dict[str, dict[str, Any]],
    log: Callable[[str], None],
) -> None:
    compared_with = active[name][0] if name in active else RULES
    component = ModelComponent(
        model=model,
        name=name,
        status=Status.SKIPPED,
        baseline=baseline.get(name, {}),
        compared_with=compared_with,
    )
    if component_result is None or not component_result.trained or outcome is None:
        component.decision = component_result.reason if component_result is not None else "not trained"
        component.save()
        log(f"{name}: not trained ({component.decision})")
        return
    dev, problem = outcome
    component.path = component_result.path
    component.labels = list(component_result.labels)
    component.examples = component_result.examples
    component.details = dict(component_result.details)
    component.dev = dev
    new, old = float(dev.get("f1", 0.0)), _f1(baseline, name)
    if problem:
        component.status = Status.LOST
        component.decision = problem
    elif new > old:
        component.status = Status.LOST  # component_activate moves it to active
        component.decision = (
            f"dev F1 {new:.3f} > {old:.3f} of {compared_with} on the same {model.dev_articles} dev article(s)"
        )
    else:
        component.status = Status.LOST
        component.decision = (
            f"dev F1 {new:.3f} ≤ {old:.3f} of {compared_with} on the same {model.dev_articles} dev article(s): "
            f"{compared_with} stays"
        )
    component.save()
    if not problem and new > old:
        component_activate(component=component, decision="activated by the gate")
        log(f"{name}: {component.decision}: active")
    else:
        log(f"{name}: {component.decision}")
