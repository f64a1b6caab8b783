"""The annotated import: files of annotated articles (native JSONL, brat, doccano, Label Studio) into a
layer of a project — the gold layer, a model version's machine layer or an annotator's layer.

Readers (`annotations.importers`, one module per format, registered in `catalog.ANNOTATED_READERS`)
turn a file into articles with their items; this module stores them: articles through the article
services, every item through the item services, so the schema is checked. Each file is atomic: any
error (reported as `file:line:field: message`) keeps nothing of it. An article already in the project
(same text) gets the annotations when its target layer is still empty, else it is a duplicate.
Exporting a native JSONL file that was imported gives back the same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from annotations.errors import ImportFailed, InvalidAnnotation
from annotations.exports.base import ExportOptionError
from annotations.importers.annotated import AnnotatedArticle, ReadOptions
from annotations.importers.base import validation_messages
from annotations.importers.catalog import ANNOTATED_READERS, annotated_format_for
from annotations.models import Actor, Article, Change, Event, Layer, Mention, Project, Stance
from annotations.schema import LabelSchema
from annotations.services.actors import actor_upsert
from annotations.services.articles import articles_create, content_hash
from annotations.services.changes import changes_via
from annotations.services.items import event_create, mention_create, stance_create
from annotations.services.layers import layer_for_annotator, layer_gold, layer_set_status

FORMATS = tuple(ANNOTATED_READERS)


@dataclass(frozen=True)
class LayerTarget:
    """Where the annotations go: `gold`, `machine:<version>` or `annotator:<username>`; `from_file`
    takes the annotator or model version from each line's `layer` (native JSONL only)."""

    kind: str
    model_version: str = ""
    annotator: str = ""
    from_file: bool = False

    @classmethod
    def parse(cls, value: str) -> LayerTarget:
        kind, _, name = value.partition(":")
        if kind == "gold" and not name:
            return cls(kind="gold")
        if kind == "machine" and name:
            return cls(kind="machine", model_version=name)
        if kind == "annotator" and name:
            return cls(kind="annotator", annotator=name)
        raise ExportOptionError(
            "annotations", f"{value!r} is not a layer; use gold, machine:<version> or annotator:<username>"
        )


@dataclass
class CorpusImport:
    """What one file brought: articles annotated, duplicates skipped (titles), items, reader warnings."""

    articles: int = 0
    duplicates: list[str] = field(default_factory=list)
    mentions: int = 0
    events: int = 0
    stances: int = 0
    arguments: int = 0
    warnings: list[str] = field(default_factory=list)


LAYER_KINDS = ("gold", "annotator", "machine")


def _target_layer(article: Article, annotated: AnnotatedArticle, target: LayerTarget) -> Layer:
    if target.kind == "gold":
        return layer_gold(article=article)
    source = annotated.layer
    if target.kind == "annotator":
        username = source.get("annotator") if target.from_file else target.annotator
        user = get_user_model().objects.filter(username=username).first() if username else None
        if user is None:
            raise InvalidAnnotation("layer", f"annotator layer of unknown user {username!r}")
        return layer_for_annotator(article=article, annotator=user)
    version = source.get("model_version") if target.from_file else target.model_version
    if not version:
        raise InvalidAnnotation("layer", "a machine layer needs a model version (layer.model_version)")
    # No service creates an empty machine layer yet (pre-annotation replaces whole layers).
    layer, _ = Layer.objects.get_or_create(article=article, kind=Layer.Kind.MACHINE, model_version=version)
    return layer


def _actor_for(value: Any, kind: str) -> Actor | None:
    if not value:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        raise InvalidAnnotation("actor", f"must be an object with a name, got {value!r}")
    actor = Actor.objects.filter(name=value["name"]).first()
    if actor is None:
        actor, _ = actor_upsert(
            name=value["name"],
            kind=kind,
            country=value.get("country") or "",
            sector=value.get("sector") or "",
            wikidata_id=value.get("wikidata_id") or "",
        )
    return actor


def _keep_provenance(model: type[Mention | Event | Stance], pk: int, provenance: Any) -> None:
    """The exported item's adjudication provenance, written onto the item just created."""
    if provenance:
        if not isinstance(provenance, dict):
            raise InvalidAnnotation("provenance", f"must be an object, got {provenance!r}")
        model.objects.filter(pk=pk).update(provenance=provenance)


def _item_error(source: str, line: int, name: str, exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [
            f"{source}:{line}:{field}: {name}: {message}"
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
    return [f"{source}:{line}: {name}: {message}" for message in exc.messages]


def _store_items(layer: Layer, annotated: AnnotatedArticle, source: str, outcome: CorpusImport) -> None:
    """Every item of one article into `layer` through the item services; errors name file:line:field."""
    mention_ids: dict[str, int] = {}
    errors: list[str] = []
    for mention in annotated.mentions:
        try:
            with transaction.atomic():
                created = mention_create(
                    layer=layer,
                    label=mention.label,
                    start=mention.start,
                    end=mention.end,
                    text=mention.text,
                    actor=_actor_for(mention.actor, mention.label),
                    score=mention.score,
                )
                _keep_provenance(Mention, created.pk, mention.provenance)
        except ValidationError as exc:
            errors += _item_error(source, mention.line, f"mention {mention.key}", exc)
            continue
        mention_ids[mention.key] = created.pk
        outcome.mentions += 1
    for event in annotated.events:
        missing = [key for _, key in event.arguments if key not in mention_ids]
        if missing:
            errors.append(f"{source}:{event.line}:arguments: event {event.key}: mention {missing[0]} was not stored")
            continue
        try:
            with transaction.atomic():
                created_event = event_create(
                    layer=layer,
                    event_type=event.event_type,
                    trigger_start=event.trigger_start,
                    trigger_end=event.trigger_end,
                    trigger_text=event.trigger_text,
                    mode=event.mode,
                    realis=event.realis,
                    contexts=event.contexts,
                    arguments=[(role, mention_ids[key]) for role, key in event.arguments],
                    not_stated=event.not_stated,
                    score=event.score,
                )
                _keep_provenance(Event, created_event.pk, event.provenance)
        except ValidationError as exc:
            errors += _item_error(source, event.line, f"event {event.key}", exc)
            continue
        outcome.events += 1
        outcome.arguments += len(event.arguments)
    for stance in annotated.stances:
        missing = [key for key in (stance.holder, stance.target) if key is not None and key not in mention_ids]
        if missing:
            errors.append(f"{source}:{stance.line}:target: stance {stance.key}: mention {missing[0]} was not stored")
            continue
        try:
            with transaction.atomic():
                created_stance = stance_create(
                    layer=layer,
                    label=stance.label,
                    holder_id=mention_ids[stance.holder] if stance.holder is not None else None,
                    target_id=mention_ids[stance.target] if stance.target is not None else None,
                    target_actor=_actor_for(stance.target_actor, "ORG"),
                    scope=stance.scope,
                    evidence_start=stance.evidence_start,
                    evidence_end=stance.evidence_end,
                    evidence_text=stance.evidence_text,
                    score=stance.score,
                )
                _keep_provenance(Stance, created_stance.pk, stance.provenance)
        except ValidationError as exc:
            errors += _item_error(source, stance.line, f"stance {stance.key}", exc)
            continue
        outcome.stances += 1
    if errors:
        raise ImportFailed(errors)


def _set_status(layer: Layer, annotated: AnnotatedArticle, source: str) -> None:
    """The status the file records for the layer (native JSONL): adjudicated gold stays adjudicated,
    with the exported time and the reviewer when a user of that name exists."""
    recorded = annotated.layer
    status = recorded.get("status")
    if status == Layer.Status.ADJUDICATED and layer.kind != Layer.Kind.GOLD:
        status = Layer.Status.DONE
    layer.refresh_from_db(fields=["status", "version"])
    if status and status != layer.status:
        reviewer = recorded.get("adjudicated_by")
        by = get_user_model().objects.filter(username=reviewer).first() if reviewer else None
        try:
            layer_set_status(layer=layer, status=status, by=by)
        except ValidationError as exc:
            raise ImportFailed(_item_error(source, annotated.line, "layer", exc)) from None
    if layer.status == Layer.Status.ADJUDICATED:
        # When it was adjudicated, as exported (the service stamps the time of the import).
        moment = recorded.get("adjudicated_at")
        Layer.objects.filter(pk=layer.pk).update(adjudicated_at=datetime.fromisoformat(moment) if moment else None)


def _store_article(
    project: Project, annotated: AnnotatedArticle, target: LayerTarget, source: str, outcome: CorpusImport
) -> None:
    where = f"{source}:{annotated.line}"
    stored = articles_create(project=project, articles=[annotated.article], imported_from=source)
    if stored.imported:
        article = stored.imported[0]
    else:
        # Already in the project: annotate it when its text is the same and the layer is still empty.
        same = Article.objects.filter(project=project, content_hash=content_hash(annotated.article.text)).first()
        if same is None or same.text != annotated.article.text:
            outcome.duplicates += stored.duplicates
            return
        article = same
    try:
        layer = _target_layer(article, annotated, target)
    except ValidationError as exc:
        raise ImportFailed([f"{where}:layer: {m}" for m in validation_messages(exc)]) from None
    if not stored.imported and (
        layer.mentions.exists() or layer.events.exists() or layer.stances.exists() or layer.status != "not_started"
    ):
        outcome.duplicates.append(annotated.article.title)
        return
    with changes_via(Change.Path.IMPORT):
        _store_items(layer, annotated, source, outcome)
        _set_status(layer, annotated, source)
    outcome.articles += 1


def annotated_import(
    *,
    project: Project,
    path: Path,
    annotations: str | LayerTarget,
    format: str | None = None,
    label_map: Mapping[str, str] | None = None,
    source_name: str | None = None,
) -> CorpusImport:
    """Import one annotated file (or a brat `.ann` with its `.txt`) into `project`, atomically.

    `annotations` names the layer: `gold`, `machine:<version>` or `annotator:<username>` (for
    Label Studio, `machine:` reads the tasks' `predictions`, the others their `annotations`).
    `format` is one of FORMATS, or None to tell it from the suffix. Labels go through `label_map`
    ({"theirs": "OURS"}) first. Errors are raised as ImportFailed listing `name:line:field: message`
    (`source_name`, e.g. an upload's name, stands for the path in them); nothing of the file is kept.
    """
    target = annotations if isinstance(annotations, LayerTarget) else LayerTarget.parse(annotations)
    name = source_name or str(path)
    if not path.exists():
        raise ImportFailed([f"{name}: no such file or directory"])
    chosen = format or annotated_format_for(path)
    if chosen not in ANNOTATED_READERS:
        given = chosen or path.suffix or "(none)"
        raise ImportFailed([f"{name}: unknown annotated format {given!r}; use --format {'|'.join(FORMATS)}"])
    known = get_user_model().objects.filter(username=target.annotator).exists
    if target.kind == "annotator" and not target.from_file and not known():
        raise ImportFailed([f"{name}: no user {target.annotator!r} for the annotator layer"])
    options = ReadOptions(
        schema=LabelSchema(project.label_schema), label_map=dict(label_map or {}), predictions=target.kind == "machine"
    )
    read = ANNOTATED_READERS[chosen](path, options, name)
    outcome = CorpusImport(warnings=list(read.warnings))
    errors: list[str] = []
    try:
        with transaction.atomic():
            for annotated in read.articles:
                try:
                    with transaction.atomic():
                        _store_article(project, annotated, target, name, outcome)
                except ImportFailed as failed:
                    errors += failed.errors
                except ValidationError as exc:
                    errors += [f"{name}:{annotated.line}: {m}" for m in validation_messages(exc)]
            if errors:
                raise ImportFailed(errors)  # rolls back the articles that did import
    except IntegrityError:
        raise ImportFailed(
            [f"{name}: an article was stored by another import at the same time; run the import again"]
        ) from None
    return outcome


@dataclass
class AnnotatedReport:
    """Each input's outcome (or its errors) of `annotated_import_paths`."""

    files: list[tuple[Path, CorpusImport | None, list[str]]] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        return [error for _, _, errors in self.files for error in errors]


def _inputs(path: Path, chosen: str | None) -> list[Path]:
    """A brat folder is one input per `.ann` file (each atomic); anything else is itself."""
    if path.is_dir() and (chosen or annotated_format_for(path)) == "brat":
        return sorted(path.rglob("*.ann")) or [path]
    return [path]


def annotated_import_paths(
    *,
    project: Project,
    paths: Sequence[Path],
    annotations: str,
    format: str | None = None,
    label_map: Mapping[str, str] | None = None,
) -> AnnotatedReport:
    """`annotated_import` for each file (a brat folder: each `.ann`), each file atomically on its own."""
    target = LayerTarget.parse(annotations)
    report = AnnotatedReport()
    for given in paths:
        for path in _inputs(given, format):
            try:
                outcome = annotated_import(
                    project=project, path=path, annotations=target, format=format, label_map=label_map
                )
            except ImportFailed as failed:
                report.files.append((path, None, failed.errors))
            else:
                report.files.append((path, outcome, []))
    return report


@transaction.atomic
def annotated_import_tree(
    *,
    project: Project,
    folder: Path,
    annotations: str,
    format: str | None = None,
    label_map: Mapping[str, str] | None = None,
    source_name: str,
) -> CorpusImport:
    """Every input of an unpacked upload (a brat zip: each `.ann` with its `.txt`), all or nothing:
    errors of every file are collected, named `<source_name>/<member>:line:field: message`, and
    raised together as ImportFailed (nothing is kept)."""
    target = LayerTarget.parse(annotations)
    total = CorpusImport()
    errors: list[str] = []
    inputs = [path for path in _inputs(folder, format) if path != folder]
    if not inputs:
        raise ImportFailed([f"{source_name}: no annotated file inside (a brat archive holds .ann and .txt files)"])
    for path in inputs:
        member = f"{source_name}/{path.relative_to(folder).as_posix()}"
        try:
            outcome = annotated_import(
                project=project, path=path, annotations=target, format=format, label_map=label_map, source_name=member
            )
        except ImportFailed as failed:
            errors += [error.replace(f"{folder}/", f"{source_name}/") for error in failed.errors]
            continue
        total.articles += outcome.articles
        total.duplicates += outcome.duplicates
        total.warnings += outcome.warnings
        for kind in ("mentions", "events", "arguments", "stances"):
            setattr(total, kind, getattr(total, kind) + getattr(outcome, kind))
    if errors:
        raise ImportFailed(errors)
    return total


def corpus_import_jsonl(*, project: Project, path: Path, layer_kind: str = "gold") -> CorpusImport:
    """Import a native JSONL export into the gold layer (or, with `layer_kind`, the exported
    annotator's or model version's layer, named by each line's `layer`); see `annotated_import`."""
    if layer_kind not in LAYER_KINDS:
        raise ExportOptionError("layer_kind", f"unknown layer kind {layer_kind!r}; use {', '.join(LAYER_KINDS)}")
    target = LayerTarget(kind=layer_kind, from_file=layer_kind != "gold")
    return annotated_import(project=project, path=path, annotations=target, format="jsonl")
