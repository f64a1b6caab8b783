"""Export services: a validated request, the corpus as a byte stream, and the JSONL round trip.

The management command and (later) the API call the same functions: `export_request` checks
every option up front (errors name the option), `export_stream` yields the bytes (a zip for
multi-file outputs), `export_write` writes them to a file or unpacks them into a folder.
Memory stays constant: layers are read in batches, writers stream, per-split files spool.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

from annotations.errors import ImportFailed
from annotations.exports.base import (
    SPLITS,
    Chunk,
    ExportDocument,
    ExportOptionError,
    WriterContext,
    concatenated,
    write_folder,
    zip_stream,
)
from annotations.exports.catalog import FORMATS, ExportFormat, export_format
from annotations.exports.selection import (
    BATCH_SIZE,
    LayerSelector,
    Selection,
    entity_labels_in,
    export_documents_of,
    parse_layer_selector,
    parse_since,
    parse_statuses,
    selected_layers,
    selection_resolve,
)
from annotations.exports.splits import DEFAULT_RATIOS, Ratios, parse_ratios
from annotations.importers.base import json_lines, validation_messages
from annotations.importers.jsonl import FIELDS as ARTICLE_FIELDS
from annotations.importers.jsonl import article_from
from annotations.models import Actor, Article, Event, Layer, Mention, Project, Stance
from annotations.schema import LabelSchema
from annotations.services import (
    actor_upsert,
    articles_create,
    event_create,
    layer_for_annotator,
    layer_gold,
    layer_set_status,
    mention_create,
    stance_create,
)

__all__ = [
    "FORMATS",
    "CorpusImport",
    "ExportOptionError",
    "ExportRequest",
    "corpus_import_jsonl",
    "export_chunks",
    "export_documents",
    "export_request",
    "export_stream",
    "export_write",
]


@dataclass(frozen=True)
class ExportRequest:
    project: Project
    format: ExportFormat
    selection: Selection
    splits: tuple[str, ...] = SPLITS
    ratios: Ratios = DEFAULT_RATIOS
    batch_size: int = BATCH_SIZE

    @property
    def is_archive(self) -> bool:
        return self.format.is_archive(self.splits)

    @property
    def filename(self) -> str:
        """A download name such as `niger-gold-conll-train.conll` or `niger-gold-spacy.zip`."""
        layer = str(self.selection.layer).replace(":", "-")
        parts = [self.project.slug, layer, self.format.name]
        if self.splits != SPLITS:
            parts.append("+".join(self.splits))
        return "-".join(parts) + (".zip" if self.is_archive else f".{self.format.extension}")

    @property
    def media_type(self) -> str:
        return "application/zip" if self.is_archive else self.format.media_type


def parse_splits(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None or value == "all":
        return SPLITS
    items = value.split(",") if isinstance(value, str) else list(value)
    wanted = {item.strip() for item in items}
    if "all" in wanted:
        return SPLITS
    unknown = sorted(wanted - set(SPLITS))
    if unknown or not wanted:
        raise ExportOptionError("split", f"unknown split {', '.join(map(repr, unknown))}; use train, dev, test or all")
    return tuple(split for split in SPLITS if split in wanted)


def export_request(
    *,
    project: Project,
    format: str,
    layer: str = "gold",
    split: str | Sequence[str] | None = "all",
    ratios: str | Sequence[float] | Ratios = DEFAULT_RATIOS,
    since: str | datetime | None = None,
    status: str | Sequence[str] | None = None,
    batch_size: int = BATCH_SIZE,
) -> ExportRequest:
    """Check every option; raise ExportOptionError naming the first bad one."""
    chosen = export_format(format)
    if chosen is None:
        raise ExportOptionError("format", f"unknown format {format!r}; formats: {', '.join(FORMATS)}")
    selector: LayerSelector = parse_layer_selector(layer)
    request = ExportRequest(
        project=project,
        format=chosen,
        selection=selection_resolve(
            project=project, layer=selector, statuses=parse_statuses(status, layer=selector), since=parse_since(since)
        ),
        splits=parse_splits(split),
        ratios=parse_ratios(ratios),
        batch_size=batch_size,
    )
    return request


def export_documents(request: ExportRequest) -> Iterator[ExportDocument]:
    """Every selected layer as an ExportDocument with its split, in article order (all splits).

    An article's split follows its story key, set at import, so it doesn't depend on which layer
    or which period is exported, and nothing is computed over the project before the first line.
    """
    return export_documents_of(selected_layers(request.selection), request.ratios, request.batch_size)


# Writers that list every entity label before the first document (brat's annotation.conf, the HF
# label list). Finding labels outside the schema reads every selected mention, so the others skip
# it: a JSONL export of 100,000 articles would otherwise wait seconds for its first byte.
LISTS_ENTITY_LABELS = frozenset({"brat", "hf"})


def writer_context(request: ExportRequest) -> WriterContext:
    schema = LabelSchema(request.project.label_schema)
    known = tuple(schema.entity_types)
    extra: list[str] = []
    if request.format.name in LISTS_ENTITY_LABELS:
        extra = sorted(entity_labels_in(selected_layers(request.selection)) - set(known))
    return WriterContext(
        project_slug=request.project.slug,
        schema=schema,
        entity_labels=known + tuple(extra),
        splits=request.splits,
    )


def export_chunks(request: ExportRequest) -> Iterator[Chunk]:
    """The files of the export, each one's chunks in a row (see `exports.base`)."""
    yield from request.format.write(export_documents(request), writer_context(request))


def export_stream(request: ExportRequest) -> Iterator[bytes]:
    """The export as bytes: the single file, or a zip of the files. What the API streams."""
    chunks = export_chunks(request)
    return zip_stream(chunks) if request.is_archive else concatenated(chunks)


@dataclass
class ExportWritten:
    path: Path
    files: list[Path]
    bytes: int = 0


def export_write(request: ExportRequest, out: Path) -> ExportWritten:
    """Write the export to `out`.

    A single-file export, or an archive to a path ending in .zip, gets exactly the bytes of
    `export_stream`. An archive to any other path is unpacked into that folder instead.
    """
    if request.is_archive and out.suffix.lower() != ".zip":
        if out.exists() and not out.is_dir():
            raise ExportOptionError("out", f"{out} is a file; give a folder, or a path ending in .zip")
        out.mkdir(parents=True, exist_ok=True)
        files = write_folder(export_chunks(request), out)
        return ExportWritten(path=out, files=files, bytes=sum(f.stat().st_size for f in files))
    if out.is_dir():
        raise ExportOptionError("out", f"{out} is a folder; give a file name")
    out.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    partial = out.with_name(out.name + ".partial")
    with partial.open("wb") as handle:
        for data in export_stream(request):
            handle.write(data)
            written += len(data)
    partial.replace(out)
    return ExportWritten(path=out, files=[out], bytes=written)


# --- JSONL corpus import (the way back) -----------------------------------------------------


@dataclass
class CorpusImport:
    articles: int = 0
    duplicates: list[str] = field(default_factory=list)
    mentions: int = 0
    events: int = 0
    stances: int = 0


LAYER_KINDS = ("gold", "annotator", "machine")


def _target_layer(article: Article, record: dict[str, Any], layer_kind: str) -> Layer:
    if layer_kind == "gold":
        return layer_gold(article=article)
    source = record.get("layer") or {}
    if layer_kind == "annotator":
        username = source.get("annotator")
        user = get_user_model().objects.filter(username=username).first() if username else None
        if user is None:
            raise ExportOptionError("layer", f"annotator layer of unknown user {username!r}")
        return layer_for_annotator(article=article, annotator=user)
    version = source.get("model_version")
    if not version:
        raise ExportOptionError("layer", "a machine layer needs layer.model_version")
    # No service creates an empty machine layer yet (pre-annotation replaces whole layers).
    layer, _ = Layer.objects.get_or_create(article=article, kind=Layer.Kind.MACHINE, model_version=version)
    return layer


def _actor_for(value: Any, kind: str) -> Actor | None:
    if not value:
        return None
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


def _keep_provenance(model: type[Mention | Event | Stance], pk: int, item: dict[str, Any]) -> None:
    """The exported item's adjudication provenance, written onto the item just created."""
    provenance = item.get("provenance")
    if provenance:
        if not isinstance(provenance, dict):
            raise TypeError(f"provenance must be an object, got {provenance!r}")
        model.objects.filter(pk=pk).update(provenance=provenance)


def _import_annotations(layer: Layer, record: dict[str, Any], outcome: CorpusImport) -> None:
    mention_ids: dict[str, int] = {}
    for mention in record.get("mentions") or []:
        created = mention_create(
            layer=layer,
            label=mention["label"],
            start=mention["start"],
            end=mention["end"],
            text=mention.get("text"),
            actor=_actor_for(mention.get("actor"), mention["label"]),
            score=mention.get("score"),
        )
        _keep_provenance(Mention, created.pk, mention)
        mention_ids[mention["id"]] = created.pk
        outcome.mentions += 1
    for event in record.get("events") or []:
        trigger = event["trigger"]
        created_event = event_create(
            layer=layer,
            event_type=event["type"],
            trigger_start=trigger["start"],
            trigger_end=trigger["end"],
            trigger_text=trigger.get("text"),
            mode=event.get("mode") or "",
            realis=event.get("realis") or "actual",
            contexts=event.get("contexts") or [],
            arguments=[(a["role"], mention_ids[a["mention"]]) for a in event.get("arguments") or []],
            score=event.get("score"),
        )
        _keep_provenance(Event, created_event.pk, event)
        outcome.events += 1
    for stance in record.get("stances") or []:
        evidence = stance.get("evidence") or {}
        created_stance = stance_create(
            layer=layer,
            label=stance["label"],
            holder_id=mention_ids[stance["holder"]] if stance.get("holder") else None,
            target_id=mention_ids[stance["target"]] if stance.get("target") else None,
            target_actor=_actor_for(stance.get("target_actor"), "ORG"),
            scope=stance.get("scope") or "sentence",
            evidence_start=evidence.get("start"),
            evidence_end=evidence.get("end"),
            evidence_text=evidence.get("text"),
            score=stance.get("score"),
        )
        _keep_provenance(Stance, created_stance.pk, stance)
        outcome.stances += 1
    source = record.get("layer") or {}
    status = source.get("status")
    if status == Layer.Status.ADJUDICATED and layer.kind != Layer.Kind.GOLD:
        status = Layer.Status.DONE
    layer.refresh_from_db(fields=["status", "version"])
    if status and status != layer.status:
        reviewer = source.get("adjudicated_by")
        by = get_user_model().objects.filter(username=reviewer).first() if reviewer else None
        layer_set_status(layer=layer, status=status, by=by)
    if layer.status == Layer.Status.ADJUDICATED:
        # When it was adjudicated, as exported (the service stamps the time of the import).
        moment = source.get("adjudicated_at")
        Layer.objects.filter(pk=layer.pk).update(adjudicated_at=datetime.fromisoformat(moment) if moment else None)


def corpus_import_jsonl(*, project: Project, path: Path, layer_kind: str = "gold") -> CorpusImport:
    """Import a native JSONL export: articles and their annotations, into one layer per article.

    The article fields go through the JSONL article reader's checks; mentions, events and
    stances through the write services (their provenance, when the line has one, written back
    onto them), into the article's gold layer (or, with `layer_kind`, the exported annotator's or
    model version's layer), which takes the exported status (and, adjudicated, the exported time
    and the reviewer when a user of that name exists). Atomic: any error (reported with
    file:line) rolls the whole file back. An article already in the project is skipped with its
    annotations and reported as a duplicate.
    """
    if layer_kind not in LAYER_KINDS:
        raise ExportOptionError("layer_kind", f"unknown layer kind {layer_kind!r}; use {', '.join(LAYER_KINDS)}")
    outcome = CorpusImport()
    errors: list[str] = []
    with transaction.atomic():
        for number, record in json_lines(path, errors):
            where = f"{path}:{number}"
            article_input, problems = article_from({k: v for k, v in record.items() if k in ARTICLE_FIELDS}, where)
            if article_input is None or problems:
                errors += problems
                continue
            try:
                with transaction.atomic():
                    stored = articles_create(project=project, articles=[article_input], imported_from=str(path))
                    if not stored.imported:
                        outcome.duplicates += stored.duplicates
                        continue
                    article = stored.imported[0]
                    _import_annotations(_target_layer(article, record, layer_kind), record, outcome)
                    outcome.articles += 1
            except ValidationError as exc:
                errors += [f"{where}: {message}" for message in validation_messages(exc)]
            except (KeyError, TypeError, ValueError) as exc:
                errors.append(f"{where}: malformed annotation ({type(exc).__name__}: {exc})")
        if errors:
            raise ImportFailed(errors)  # rolls back the lines that did import
    return outcome
