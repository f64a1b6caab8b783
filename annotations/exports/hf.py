"""Hugging Face token classification: `labels.json` + `train.jsonl`, `dev.jsonl`, `test.jsonl`.

Each line is one sentence: {"id": "<article key>-<n>", "tokens": [...], "ner_tags": [...]} with
integer IOB2 tags (over the non-overlapping mentions, by the `overlap` rule) indexing the label
list in `labels.json` ("O", then B-/I- per entity type in schema order, then any other label found
in the data). Load with
`datasets.load_dataset("json", data_files=..., features=Features({"id": Value("string"),
"tokens": Sequence(Value("string")), "ner_tags": Sequence(ClassLabel(names=labels))}))`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import orjson

from annotations.exports.base import Chunk, ExportDocument, WriterContext, per_split_files
from annotations.exports.tokens import AlignedDocument, aligned_documents

LABELS_MEMBER = "labels.json"


def label_names(entity_labels: Iterable[str]) -> list[str]:
    names = ["O"]
    for label in entity_labels:
        names += [f"B-{label}", f"I-{label}"]
    return names


def render(aligned: AlignedDocument, index: dict[str, int]) -> bytes:
    tags = aligned.iob_tags()
    key = aligned.document["id"]
    return b"".join(
        orjson.dumps(
            {
                "id": f"{key}-{n}",
                "tokens": aligned.words[start:end],
                "ner_tags": [index[tag] for tag in tags[start:end]],
            },
            option=orjson.OPT_APPEND_NEWLINE,
        )
        for n, (start, end) in enumerate(aligned.sentences)
    )


def write(documents: Iterable[ExportDocument], context: WriterContext) -> Iterator[Chunk]:
    names = label_names(context.entity_labels)
    yield Chunk(LABELS_MEMBER, orjson.dumps(names, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))
    index = {name: i for i, name in enumerate(names)}
    wanted = context.notes.left_out(
        (d for d in documents if d["split"] in context.splits), "Hugging Face", "events", "arguments", "stances"
    )
    pieces = ((a.document["split"], render(a, index)) for a in aligned_documents(wanted, context, "ner_tags"))
    yield from per_split_files(pieces, context.splits, lambda split: f"{split}.jsonl")
