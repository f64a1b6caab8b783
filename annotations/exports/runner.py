"""Export services: a validated request, the corpus as a byte stream with its manifest.

The management command and the API call the same functions:

- `export_request` checks every option up front (errors name the option);
- `export_run` assigns stories to splits (one aggregate query) and starts the manifest: before
  the first byte, `run.manifest` knows the split counts and any requested split left empty
  (`check_export_splits` turns that into warnings, or with `strict` an `EmptySplitsError`, 409);
- `run.stream()` yields the bytes (a zip for multi-file outputs, with `manifest.json` last); when
  it is exhausted `run.manifest` is complete (the counts, what the format left out);
- `export_stream` is `export_run(request).stream()`; `export_write` writes to a file (the
  manifest next to it, `<file>.manifest.json`) or unpacks into a folder.

Memory stays constant: layers are read in batches, writers stream, per-split files spool.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import orjson
from django.utils import timezone

from annotations.exports.base import (
    OVERLAP_RULES,
    SPLITS,
    Chunk,
    EmptySplitsError,
    ExportDocument,
    ExportNotes,
    ExportOptionError,
    WriterContext,
    concatenated,
    write_folder,
    zip_stream,
)
from annotations.exports.catalog import FORMATS, ExportFormat, export_format
from annotations.exports.event_data import parse_clusters, parse_sources, with_event_data
from annotations.exports.manifest import MANIFEST_MEMBER, ExportManifest, brat_notes
from annotations.exports.reading import BATCH_SIZE, export_documents_of
from annotations.exports.selection import (
    LayerSelector,
    Selection,
    entity_labels_in,
    parse_language,
    parse_layer_selector,
    parse_since,
    parse_statuses,
    selected_layers,
    selection_resolve,
    story_sizes,
    tombstones,
)
from annotations.exports.splits import (
    DEFAULT_RATIOS,
    DEFAULT_SEED,
    Ratios,
    SplitAssignment,
    assign_splits,
    parse_ratios,
)
from annotations.models import Project
from annotations.schema import LabelSchema


@dataclass(frozen=True)
class ExportRequest:
    project: Project
    format: ExportFormat
    selection: Selection
    splits: tuple[str, ...] = SPLITS
    ratios: Ratios = DEFAULT_RATIOS
    batch_size: int = BATCH_SIZE
    seed: int = DEFAULT_SEED
    overlap: str = "longest"
    clusters: str = "confirmed"  # the event formats: confirmed clusters, or all (proposed, single events)
    sources: str = "all"  # all, or reliable (articles whose source is not flagged)

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


# The formats of real-world events (linked clusters): they count only reliable sources unless asked.
EVENT_FORMATS = frozenset({"events", "events-csv"})


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


def parse_seed(value: int | str | None) -> int:
    if value is None or value == "":
        return DEFAULT_SEED
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ExportOptionError("seed", f"{value!r} is not a whole number") from None


def parse_overlap(value: str | None) -> str:
    if value is None or value == "":
        return "longest"
    if value not in OVERLAP_RULES:
        raise ExportOptionError("overlap", f"unknown overlap rule {value!r}; use {', '.join(OVERLAP_RULES)}")
    return value


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
    seed: int | str | None = DEFAULT_SEED,
    overlap: str | None = "longest",
    language: str | None = None,
    clusters: str | None = None,
    sources: str | None = None,
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
            project=project,
            layer=selector,
            statuses=parse_statuses(status, layer=selector),
            since=parse_since(since),
            language=parse_language(language),
        ),
        splits=parse_splits(split),
        ratios=parse_ratios(ratios),
        batch_size=batch_size,
        seed=parse_seed(seed),
        overlap=parse_overlap(overlap),
        clusters=parse_clusters(clusters),
        sources=parse_sources(sources, default="reliable" if chosen.name in EVENT_FORMATS else "all"),
    )
    return request


def export_splits(request: ExportRequest) -> SplitAssignment:
    """The stories of the selection assigned to splits (`splits.assign_splits`): one aggregate query.

    The assignment is over the selected layers, so a story's split can differ between a gold and
    an annotator export, or as the selection grows; the one-split exports of a selection add up to
    its all-split export.
    """
    return assign_splits(story_sizes(selected_layers(request.selection)), request.ratios, request.seed)


def export_documents(request: ExportRequest, splits: SplitAssignment | None = None) -> Iterator[ExportDocument]:
    """Every selected layer as an ExportDocument with its split, in article order (all splits)."""
    assignment = splits if splits is not None else export_splits(request)
    layers = selected_layers(request.selection)
    return export_documents_of(layers, assignment, request.batch_size)


# Writers that list every entity label before the first document (brat's annotation.conf, the HF
# label list). Finding labels outside the schema reads every selected mention, so the others skip
# it: a JSONL export of 100,000 articles would otherwise wait seconds for its first byte.
LISTS_ENTITY_LABELS = frozenset({"brat", "hf"})
# Writers that put each language in its own part (one DocBin and config.cfg per language).
SPLITS_BY_LANGUAGE = frozenset({"spacy"})


def writer_context(request: ExportRequest, notes: ExportNotes | None = None) -> WriterContext:
    schema = LabelSchema(request.project.label_schema)
    known = tuple(schema.entity_types)
    extra: list[str] = []
    if request.format.name in LISTS_ENTITY_LABELS:
        extra = sorted(entity_labels_in(selected_layers(request.selection)) - set(known))
    languages: tuple[str, ...] = ()
    if request.format.name in SPLITS_BY_LANGUAGE:
        languages = tuple(
            sorted(set(selected_layers(request.selection).values_list("article__language", flat=True).distinct()))
        )
    return WriterContext(
        languages=languages,
        project_slug=request.project.slug,
        schema=schema,
        entity_labels=known + tuple(extra),
        splits=request.splits,
        overlap=request.overlap,
        notes=notes if notes is not None else ExportNotes(),
        options={"clusters": request.clusters},
    )


def _options(request: ExportRequest) -> dict[str, object]:
    selection = request.selection
    options: dict[str, object] = {
        "project": request.project.slug,
        "format": request.format.name,
        "layer": str(selection.layer),
        "status": list(selection.statuses),
        "since": selection.since.isoformat() if selection.since else None,
        "splits_requested": list(request.splits),
        "ratios": str(request.ratios),
        "seed": request.seed,
        "overlap": request.overlap,
        "schema_version": request.project.schema_version,
        **({"clusters": request.clusters} if request.format.name in EVENT_FORMATS else {}),
        **({"sources": request.sources} if request.sources != "all" else {}),
    }
    if selection.language:
        options["language"] = selection.language
    return options


# Formats whose `since=` exports end with a tombstone line per article that left the selection.
TOMBSTONE_FORMATS = frozenset({"jsonl"})


def tombstone_line(key: str, at: datetime) -> bytes:
    """`{"at": ISO, "deleted": true, "key": content hash}`: drop the article of that key."""
    moment = at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return orjson.dumps({"at": moment, "deleted": True, "key": key}, option=orjson.OPT_APPEND_NEWLINE)


@dataclass
class ExportRun:
    """One export in progress: its manifest (split part known now, counts when the stream ends).

    `until` is the export's as-of time, taken before anything is read: a sync client passes it as
    the next export's `since` (it is not in the manifest, so repeated exports stay byte-identical).
    """

    request: ExportRequest
    manifest: ExportManifest
    until: datetime = field(default_factory=timezone.now)
    started: bool = field(default=False, init=False)

    def chunks(self) -> Iterator[Chunk]:
        """The files of the export, each one's chunks in a row (see `exports.base`); `manifest.json`
        last in an archive."""
        if self.started:
            raise RuntimeError("an export run is read once; start another with export_run")
        self.started = True
        request, manifest = self.request, self.manifest
        documents = manifest.count(
            with_event_data(
                export_documents(request, manifest.assignment),
                selected_layers(request.selection),
                manifest.notes,
                sources=request.sources,
            )
        )
        if request.format.name == "brat":
            documents = brat_notes(documents, manifest.notes)
        member = ""
        for chunk in request.format.write(documents, writer_context(request, manifest.notes)):
            member = chunk.member
            yield chunk
        if request.format.name in TOMBSTONE_FORMATS and request.selection.since is not None:
            gone = tombstones(request.selection)
            manifest.deleted = len(gone)
            if gone:
                yield Chunk(member, b"".join(tombstone_line(key, at) for key, at in gone))
        if request.is_archive:
            yield Chunk(MANIFEST_MEMBER, manifest.to_bytes())

    def stream(self) -> Iterator[bytes]:
        """The export as bytes: the single file, or a zip of the files. What the API streams."""
        chunks = self.chunks()
        return zip_stream(chunks) if self.request.is_archive else concatenated(chunks)


def export_run(request: ExportRequest) -> ExportRun:
    """Assign the splits and start the manifest; nothing is read until the stream is."""
    until = timezone.now()
    manifest = ExportManifest(options=_options(request), splits=request.splits, assignment=export_splits(request))
    return ExportRun(request=request, manifest=manifest, until=until)


def check_export_splits(manifest: ExportManifest, *, strict: bool = False) -> list[str]:
    """The warnings of a manifest's split assignment (a requested split left empty); with `strict`,
    an EmptySplitsError instead, before anything is written (the API answers 409)."""
    warnings = manifest.warnings
    if strict and warnings:
        raise EmptySplitsError(manifest.empty_splits, "; ".join(warnings))
    return warnings


def export_chunks(request: ExportRequest) -> Iterator[Chunk]:
    """The files of the export (see `ExportRun.chunks`)."""
    return export_run(request).chunks()


def export_stream(request: ExportRequest) -> Iterator[bytes]:
    """The export as bytes (see `ExportRun.stream`)."""
    return export_run(request).stream()


@dataclass
class ExportWritten:
    path: Path
    files: list[Path]
    bytes: int = 0
    manifest: ExportManifest | None = None
    until: datetime | None = None  # the export's as-of time (the next `since`)


def manifest_path(out: Path) -> Path:
    """Where a single-file export's manifest goes: next to it, `<file>.manifest.json`."""
    return out.with_name(out.name + ".manifest.json")


def export_write(request: ExportRequest, out: Path, *, strict: bool = False) -> ExportWritten:
    """Write the export to `out`.

    A single-file export, or an archive to a path ending in .zip, gets exactly the bytes of
    `export_stream`; a single file gets its manifest next to it (`manifest_path`). An archive to
    any other path is unpacked into that folder instead (`manifest.json` inside). With `strict`,
    a requested split left empty raises EmptySplitsError before anything is written.
    """
    if request.is_archive and out.suffix.lower() != ".zip":
        if out.exists() and not out.is_dir():
            raise ExportOptionError("out", f"{out} is a file; give a folder, or a path ending in .zip")
        run = export_run(request)
        check_export_splits(run.manifest, strict=strict)
        out.mkdir(parents=True, exist_ok=True)
        files = write_folder(run.chunks(), out)
        return ExportWritten(
            path=out, files=files, bytes=sum(f.stat().st_size for f in files), manifest=run.manifest, until=run.until
        )
    if out.is_dir():
        raise ExportOptionError("out", f"{out} is a folder; give a file name")
    run = export_run(request)
    check_export_splits(run.manifest, strict=strict)
    out.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    partial = out.with_name(out.name + ".partial")
    with partial.open("wb") as handle:
        for data in run.stream():
            handle.write(data)
            written += len(data)
    partial.replace(out)
    files = [out]
    if not request.is_archive:
        manifest_path(out).write_bytes(run.manifest.to_bytes())
        files.append(manifest_path(out))
    return ExportWritten(path=out, files=files, bytes=written, manifest=run.manifest, until=run.until)
