"""CoNLL-2003 style IOB2 columns, one file per split (`train.conll`, …).

Per word (spaCy token that isn't white space) one line `WORD -X- _ TAG`: the CoNLL-2003 column
order (token, POS, chunk, NER) with POS and chunk unknown. A blank line ends each sentence;
`-DOCSTART- -X- O O` and a blank line open each article. Tags are IOB2 over the non-overlapping
entities (see `tokens`, the `overlap` rule). `python -m spacy convert FILE OUT --converter ner` reads it.

The article key can't go in the file: spaCy's converter reads any line after `-DOCSTART-` as a
token (a `# id = KEY` comment would become a word "#"). The manifest lists each file's article
keys in the order of its `-DOCSTART-` lines instead (`documents`), the same order as the
split's lines in the JSONL export.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from annotations.exports.base import Chunk, ExportDocument, WriterContext, per_split_files
from annotations.exports.tokens import AlignedDocument, aligned_documents

DOCSTART = "-DOCSTART- -X- O O\n\n"


def render(aligned: AlignedDocument) -> bytes:
    tags = aligned.iob_tags()
    lines = [DOCSTART]
    for start, end in aligned.sentences:
        lines += [f"{aligned.words[i]} -X- _ {tags[i]}\n" for i in range(start, end)]
        lines.append("\n")
    return "".join(lines).encode("utf-8")


def name(split: str) -> str:
    return f"{split}.conll"


def write(documents: Iterable[ExportDocument], context: WriterContext) -> Iterator[Chunk]:
    keys: dict[str, list[str]] = {name(split): [] for split in context.splits}
    context.notes.documents.update(keys)

    def rendered(aligned: AlignedDocument) -> tuple[str, bytes]:
        split = aligned.document["split"]
        keys[name(split)].append(aligned.document["id"])
        return split, render(aligned)

    wanted = context.notes.left_out(
        (d for d in documents if d["split"] in context.splits), "CoNLL", "events", "arguments", "stances"
    )
    pieces = map(rendered, aligned_documents(wanted, context, "the IOB tags"))
    yield from per_split_files(pieces, context.splits, name)
