"""Export services: a validated request, the corpus as a byte stream, and the JSONL round trip.

The management command and (later) the API call the same functions: `export_request` checks
every option up front (errors name the option), `export_stream` yields the bytes (a zip for
multi-file outputs), `export_write` writes them to a file or unpacks them into a folder.
Memory stays constant: layers are read in batches, writers stream, per-split files spool.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

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
from annotations.exports.reading import BATCH_SIZE, export_documents_of
from annotations.exports.selection import (
    LayerSelector,
    Selection,
    entity_labels_in,
    parse_layer_selector,
    parse_since,
    parse_statuses,
    selected_layers,
    selection_resolve,
)
from annotations.exports.splits import DEFAULT_RATIOS, Ratios, parse_ratios
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
