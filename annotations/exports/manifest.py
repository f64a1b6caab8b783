"""The manifest of an export: what went in, per split, label and language, and what the format left out.

Its first part (the request and the split assignment, with any split left empty) is known before
the first byte; the counts are complete when the last document has passed. Folder and zip exports
carry it as `manifest.json` (their last member); a single-file export hands it to the caller
(`ExportRun.manifest`), which the command writes next to the file and the API can send as headers
and a trailer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from annotations.exports.base import SPLITS, ExportDocument, ExportNotes
from annotations.exports.splits import SplitAssignment

MANIFEST_MEMBER = "manifest.json"
KINDS = ("articles", "mentions", "events", "arguments", "stances")


@dataclass
class ExportManifest:
    """Counted over the exported documents (those of the requested splits)."""

    options: dict[str, Any]
    splits: tuple[str, ...]
    assignment: SplitAssignment
    notes: ExportNotes = field(default_factory=ExportNotes)
    totals: Counter[str] = field(default_factory=Counter)
    per_split: dict[str, Counter[str]] = field(default_factory=dict)
    labels: dict[str, Counter[str]] = field(default_factory=dict)
    languages: Counter[str] = field(default_factory=Counter)
    complete: bool = False
    # Tombstone lines of a `since=` JSONL export (None: the export has none to give).
    deleted: int | None = None

    def __post_init__(self) -> None:
        self.per_split = {split: Counter() for split in self.splits}
        self.labels = {kind: Counter() for kind in ("mentions", "events", "roles", "stances")}

    @property
    def empty_splits(self) -> list[str]:
        """Requested splits with a positive ratio that get no article (known before the first byte)."""
        return self.assignment.empty_splits(self.splits)

    @property
    def warnings(self) -> list[str]:
        empty = self.empty_splits
        if not empty:
            return []
        stories = sum(self.assignment.stories.values())
        return [
            f"split {split} is empty: {stories} stor{'y' if stories == 1 else 'ies'} for "
            f"{len([s for s in SPLITS if self.assignment.ratios.of(s) > 0])} splits with a positive ratio "
            "(reports of one story stay in one split)"
            for split in empty
        ]

    def count(self, documents: Iterable[ExportDocument]) -> Iterator[ExportDocument]:
        """Pass the documents through, counting those of the requested splits."""
        labels = self.labels
        for document in documents:
            split = document["split"]
            if split in self.per_split:
                arguments = sum(len(e["arguments"]) for e in document["events"])
                for counter in (self.totals, self.per_split[split]):
                    counter["articles"] += 1
                    counter["mentions"] += len(document["mentions"])
                    counter["events"] += len(document["events"])
                    counter["arguments"] += arguments
                    counter["stances"] += len(document["stances"])
                labels["mentions"].update(m["label"] for m in document["mentions"])
                labels["events"].update(e["type"] for e in document["events"])
                labels["roles"].update(a["role"] for e in document["events"] for a in e["arguments"])
                labels["stances"].update(s["label"] for s in document["stances"])
                self.languages[document["language"]] += 1
            yield document
        self.complete = True

    def counts_json(self) -> dict[str, Any]:
        """Totals by kind and articles per split: what a dataset version records (with the rest)."""
        return {
            **{kind: self.totals[kind] for kind in KINDS},
            "splits": {split: self.per_split[split]["articles"] for split in self.splits},
        }

    def as_json(self) -> dict[str, Any]:
        return {
            **self.options,
            "complete": self.complete,
            "counts": self.counts_json(),
            "per_split": {split: {kind: self.per_split[split][kind] for kind in KINDS} for split in self.splits},
            "labels": {kind: dict(sorted(counter.items())) for kind, counter in self.labels.items()},
            "languages": dict(sorted(self.languages.items())),
            "split_assignment": self.assignment.as_json(self.splits),
            "dropped": self.notes.as_json(),
            "warnings": self.warnings,
            **({"documents": self.notes.documents} if self.notes.documents else {}),
            **({"deleted": self.deleted} if self.deleted is not None else {}),
        }

    def to_bytes(self) -> bytes:
        return orjson.dumps(self.as_json(), option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)


def brat_notes(documents: Iterable[ExportDocument], notes: ExportNotes) -> Iterator[ExportDocument]:
    """What brat standoff has no form for (see `brat`), counted as the documents pass."""
    no_target = without_arguments = linked = 0
    for document in documents:
        no_target += sum(1 for s in document["stances"] if s["target"] is None)
        without_arguments += sum(1 for e in document["events"] if not e["arguments"])
        linked += sum(1 for m in document["mentions"] if m["actor"] is not None)
        yield document
    notes.add("stances", no_target, "aimed at an actor without a mention: no brat form, left out")
    notes.add("events", without_arguments, "without arguments: written with their trigger only")
    notes.add("actor links", linked, "of mentions: no brat form, left out (the JSONL export keeps them)")
