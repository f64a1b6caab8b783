"""spaCy DocBin: `<split>/part-00000.spacy`, … with at most PART_DOCS articles per file.

A DocBin is serialised whole and two can't be concatenated, so each split is written in parts
of PART_DOCS documents: memory stays bounded and `spacy train` / `spacy debug data` take the
split's folder as the corpus path (`--paths.train out/train --paths.dev out/dev`). Every
requested split has at least one part, empty if it has no articles.

Per Doc: spaCy English tokens with sentence starts (see `tokens`), `doc.ents` = the
non-overlapping mentions, `doc.spans["sc"]` = every mention, and
`doc.user_data["workbench"]` = the article key, title, split, layer, mentions (with token
offsets), events and stances as JSON-ready values.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from spacy.tokens import DocBin, Span

from annotations.exports.base import Chunk, ExportDocument, WriterContext
from annotations.exports.tokens import AlignedDocument, aligned_documents

PART_DOCS = 1000
SPAN_KEY = "sc"
USER_DATA_KEY = "workbench"


def to_doc(aligned: AlignedDocument) -> Any:
    doc = aligned.doc
    document = aligned.document
    labels = {m["id"]: m["label"] for m in document["mentions"]}
    doc.ents = [Span(doc, *aligned.mention_tokens[m], label=labels[m]) for m in aligned.entities]
    doc.spans[SPAN_KEY] = [
        Span(doc, *aligned.mention_tokens[m["id"]], label=m["label"])
        for m in document["mentions"]
        if m["id"] in aligned.mention_tokens
    ]
    mentions = [
        {**m, "tokens": list(aligned.mention_tokens[m["id"]]) if m["id"] in aligned.mention_tokens else None}
        for m in document["mentions"]
    ]
    events = [
        {**e, "trigger_tokens": list(aligned.trigger_tokens[e["id"]]) if e["id"] in aligned.trigger_tokens else None}
        for e in document["events"]
    ]
    doc.user_data[USER_DATA_KEY] = {
        "id": document["id"],
        "title": document["title"],
        "split": document["split"],
        "layer": dict(document["layer"]),
        "mentions": mentions,
        "events": events,
        "stances": list(document["stances"]),
    }
    return doc


def write(documents: Iterable[ExportDocument], context: WriterContext) -> Iterator[Chunk]:
    bins = {split: DocBin(store_user_data=True) for split in context.splits}
    parts = dict.fromkeys(context.splits, 0)

    def flush(split: str) -> Chunk:
        chunk = Chunk(f"{split}/part-{parts[split]:05d}.spacy", bins[split].to_bytes())
        parts[split] += 1
        bins[split] = DocBin(store_user_data=True)
        return chunk

    wanted = (d for d in documents if d["split"] in context.splits)
    for aligned in aligned_documents(wanted):
        split = aligned.document["split"]
        bins[split].add(to_doc(aligned))
        if len(bins[split]) >= PART_DOCS:
            yield flush(split)
    for split in context.splits:
        if len(bins[split]) or parts[split] == 0:
            yield flush(split)
