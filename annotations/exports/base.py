"""What every writer reads and yields: the export document, chunks of output, archives.

A writer is a generator: documents in, `Chunk`s out (bytes for one file of the export). A writer
yields each file's chunks contiguously, so an archive can be streamed member after member with
constant memory (`zip_stream`) and a folder written file after file (`write_folder`).
"""

from __future__ import annotations

import contextlib
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, NotRequired, TypedDict

from django.core.exceptions import ValidationError

from annotations.schema import LabelSchema

SPLITS = ("train", "dev", "test")

# A per-split file stays in memory up to this size, then moves to a temporary file.
SPOOL_MAX_BYTES = 8 * 1024 * 1024
# Zip output is handed on in pieces of about this size.
STREAM_PIECE_BYTES = 64 * 1024
# Fixed member timestamp, so the same corpus gives the same archive bytes.
ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)


class ExportOptionError(ValidationError):
    """An export option is malformed or names something that doesn't exist. Maps to 400."""

    def __init__(self, field: str, message: str):
        super().__init__({field: [message]})
        self.field = field
        self.text = f"{field}: {message}"

    def __str__(self) -> str:
        return self.text


# --- The export document (also the native JSONL line) ---------------------------------------


class ActorJSON(TypedDict):
    name: str
    country: str
    sector: str
    wikidata_id: str


class MentionJSON(TypedDict):
    id: str
    label: str
    start: int
    end: int
    text: str
    actor: ActorJSON | None
    score: float | None
    # Gold items: how adjudication made them (strategy, annotators, reviewer, at); absent when empty.
    provenance: NotRequired[dict[str, Any]]


class SpanJSON(TypedDict):
    start: int
    end: int
    text: str


class ArgumentJSON(TypedDict):
    role: str
    mention: str


class EventJSON(TypedDict):
    id: str
    type: str
    trigger: SpanJSON
    mode: str | None
    realis: str
    contexts: list[str]
    score: float | None
    arguments: list[ArgumentJSON]
    # Required roles the text does not state, as stored; absent when there are none.
    not_stated: NotRequired[list[str]]
    provenance: NotRequired[dict[str, Any]]


class StanceJSON(TypedDict):
    id: str
    holder: str | None
    target: str | None
    target_actor: ActorJSON | None
    label: str
    scope: str
    evidence: SpanJSON | None
    score: float | None
    provenance: NotRequired[dict[str, Any]]


class LayerJSON(TypedDict):
    kind: str
    annotator: str | None
    model_version: str | None
    status: str
    # Who marked the gold layer adjudicated (username) and when (ISO); absent when not set.
    adjudicated_by: NotRequired[str]
    adjudicated_at: NotRequired[str]


class ArticleJSON(TypedDict):
    """The article's fields of a document, with its split."""

    id: str
    title: str
    text: str
    source: str
    url: str
    published: str | None
    language: str
    metadata: dict[str, Any]
    story: str
    split: str


class ExportDocument(ArticleJSON):
    """One article with one layer's annotations. Ids are positional (m0, e0, s0), not database ids."""

    layer: LayerJSON
    mentions: list[MentionJSON]
    events: list[EventJSON]
    stances: list[StanceJSON]


# --- Writers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chunk:
    """Bytes to append to one file of the export (`member` is its path inside the archive)."""

    member: str
    data: bytes


class EmptySplitsError(Exception):
    """A strict export asked for splits that would come back empty. Maps to 409."""

    def __init__(self, splits: list[str], message: str):
        self.splits = splits
        super().__init__(message)


# How a single-layer format (CoNLL, Hugging Face, spaCy's doc.ents) picks among overlapping mentions.
OVERLAP_RULES = ("longest", "first", "label-priority")


class ExportNotes:
    """What a writer left out or changed, counted by kind, with the reason: the manifest's `dropped`."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.reasons: dict[str, str] = {}
        # file → article keys in the order of its documents (for formats with no room for the key)
        self.documents: dict[str, list[str]] = {}

    def add(self, what: str, count: int, reason: str) -> None:
        """`count` items of kind `what` (e.g. "mentions") left out or changed, because `reason`."""
        if count:
            key = f"{what}: {reason}"
            self.reasons[key] = what
            self.counts[key] = self.counts.get(key, 0) + count

    def left_out(self, documents: Iterable[ExportDocument], format_name: str, *kinds: str) -> Iterator[ExportDocument]:
        """Pass documents through, counting their items of `kinds` (events, arguments, stances) as
        having no form in the format."""
        counts = dict.fromkeys(kinds, 0)
        for document in documents:
            for kind in kinds:
                if kind == "arguments":
                    counts[kind] += sum(len(e["arguments"]) for e in document["events"])
                else:
                    counts[kind] += len(document[kind])  # type: ignore[literal-required]
            yield document
        for kind, count in counts.items():
            self.add(kind, count, f"have no {format_name} form (the JSONL export keeps them)")

    def as_json(self) -> list[dict[str, Any]]:
        return [
            {
                "what": self.reasons[key],
                "count": count,
                "reason": key.partition(": ")[2],
                "summary": f"{count} {self.reasons[key]} {key.partition(': ')[2]}",
            }
            for key, count in self.counts.items()
        ]


@dataclass(frozen=True)
class WriterContext:
    project_slug: str
    schema: LabelSchema
    # Schema entity codes in schema order, then any other label found in the exported layers.
    entity_labels: tuple[str, ...]
    # The requested splits, in SPLITS order.
    splits: tuple[str, ...]
    overlap: str = "longest"
    # The article languages of the selection, sorted (known before the first document for the writers
    # that split by language: spaCy's DocBins); empty when not looked up.
    languages: tuple[str, ...] = ()
    # Filled by the writer as it goes: what it left out, for the manifest.
    notes: ExportNotes = field(default_factory=ExportNotes)
    # Format-specific options (the event formats' `clusters`).
    options: dict[str, str] = field(default_factory=dict)


Writer = Callable[[Iterable[ExportDocument], WriterContext], Iterator[Chunk]]


def per_split_files(
    pieces: Iterable[tuple[str, bytes]], splits: tuple[str, ...], name: Callable[[str], str]
) -> Iterator[Chunk]:
    """One file per requested split from (split, bytes) pieces that arrive interleaved.

    With one split the pieces pass straight through. With several, each split's file is spooled
    (in memory up to SPOOL_MAX_BYTES, then on disk) and emitted whole at the end, in split order,
    so members stay contiguous. Every requested split gets its file, empty or not.
    """
    if len(splits) == 1:
        (only,) = splits
        yield Chunk(name(only), b"")
        for split, data in pieces:
            if split == only:
                yield Chunk(name(only), data)
        return
    with contextlib.ExitStack() as stack:
        spools: dict[str, IO[bytes]] = {
            split: stack.enter_context(tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_BYTES)) for split in splits
        }
        for split, data in pieces:
            if split in spools:
                spools[split].write(data)
        for split in splits:
            spool = spools[split]
            spool.seek(0)
            yield Chunk(name(split), b"")
            while data := spool.read(STREAM_PIECE_BYTES):
                yield Chunk(name(split), data)


# --- Packaging --------------------------------------------------------------------------------


class _Drain:
    """A write-only file object whose content is taken out by the generator feeding zipfile."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> int:
        if data:
            self.parts.append(bytes(data))
            self.size += len(data)
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        # zipfile never closes a file object it was handed; here so _Drain is a writable file.
        pass

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts, self.size = [], 0
        return data


def _zip_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def zip_stream(chunks: Iterable[Chunk]) -> Iterator[bytes]:
    """A zip archive of the chunks' files, streamed: constant memory, byte-stable output.

    zipfile writes to a non-seekable sink with data descriptors, so nothing is buffered beyond
    the compressor's window and one piece of output.
    """
    sink = _Drain()
    done: set[str] = set()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        current: str | None = None
        entry: IO[bytes] | None = None
        for chunk in chunks:
            if chunk.member != current:
                if entry is not None:
                    entry.close()
                    assert current is not None
                    done.add(current)
                if chunk.member in done:
                    raise RuntimeError(f"writer came back to {chunk.member!r} after another file")
                current = chunk.member
                entry = archive.open(_zip_info(current), "w", force_zip64=True)
            assert entry is not None
            entry.write(chunk.data)
            if sink.size >= STREAM_PIECE_BYTES:
                yield sink.take()
        if entry is not None:
            entry.close()
    yield sink.take()


def concatenated(chunks: Iterable[Chunk]) -> Iterator[bytes]:
    """The bytes of a single-file export."""
    for chunk in chunks:
        if chunk.data:
            yield chunk.data


def write_folder(chunks: Iterable[Chunk], folder: Path) -> list[Path]:
    """Write each file of the export under `folder`; returns the files written, in order."""
    written: list[Path] = []
    handle: IO[bytes] | None = None
    current: str | None = None
    root = folder.resolve()
    try:
        for chunk in chunks:
            if chunk.member != current:
                if handle is not None:
                    handle.close()
                current = chunk.member
                path = (folder / current).resolve()
                if not path.is_relative_to(root):
                    raise RuntimeError(f"refusing to write {current!r} outside {folder}")
                path.parent.mkdir(parents=True, exist_ok=True)
                handle = path.open("wb")
                written.append(path)
            assert handle is not None
            handle.write(chunk.data)
    finally:
        if handle is not None:
            handle.close()
    return written
