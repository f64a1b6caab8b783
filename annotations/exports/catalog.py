"""The export formats by name. Add a format here and in its own module.

A format names its writer's module; the module is imported the first time the format is written,
so a process that never exports token formats never imports spaCy (the web process starts fast).

`packaging` says what one export is as a byte stream:
- "file": always one file (JSONL, with the split in each line);
- "per_split": one file per split, zipped when more than one split is exported;
- "archive": always a zip (several kinds of file per export).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Literal, cast

from annotations.exports.base import Writer


@dataclass(frozen=True)
class ExportFormat:
    name: str
    description: str
    module: str  # of annotations.exports, holding the format's `write`
    packaging: Literal["file", "per_split", "archive"]
    extension: str  # of the single file, when the export is one file
    media_type: str

    @property
    def write(self) -> Writer:
        """The format's writer, imported on first use."""
        return cast(Writer, importlib.import_module(f"annotations.exports.{self.module}").write)

    def is_archive(self, splits: tuple[str, ...]) -> bool:
        return self.packaging == "archive" or (self.packaging == "per_split" and len(splits) > 1)


FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat(
            "jsonl",
            "native JSON Lines, lossless (text, mentions, events, stance, provenance, split)",
            "jsonl",
            "file",
            "jsonl",
            "application/x-ndjson",
        ),
        ExportFormat(
            "spacy",
            "spaCy DocBin parts per split (doc.ents, doc.spans['sc'], events in user_data)",
            "spacy_docbin",
            "archive",
            "zip",
            "application/zip",
        ),
        ExportFormat("conll", "CoNLL-2003 IOB2 columns per split", "conll", "per_split", "conll", "text/plain"),
        ExportFormat(
            "brat", "brat standoff (.txt + .ann + annotation.conf)", "brat", "archive", "zip", "application/zip"
        ),
        ExportFormat("dygie", "DyGIE++ JSON lines per split", "dygie", "per_split", "json", "application/x-ndjson"),
        ExportFormat(
            "hf",
            "Hugging Face token classification JSON lines per split + labels.json",
            "hf",
            "archive",
            "zip",
            "application/zip",
        ),
        ExportFormat(
            "events",
            "event dataset: one JSON line per real-world event (linked clusters, PLOVER field names)",
            "events",
            "file",
            "jsonl",
            "application/x-ndjson",
        ),
        ExportFormat(
            "events-csv", "event dataset as CSV: one row per real-world event", "events_csv", "file", "csv", "text/csv"
        ),
    )
}


def export_format(name: str) -> ExportFormat | None:
    return FORMATS.get(name)
