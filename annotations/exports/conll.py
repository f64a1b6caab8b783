"""CoNLL-2003 style IOB2 columns, one file per split (`train.conll`, …).

Per word (spaCy token that isn't white space) one line `WORD -X- _ TAG`: the CoNLL-2003 column
order (token, POS, chunk, NER) with POS and chunk unknown. A blank line ends each sentence;
`-DOCSTART- -X- O O` and a blank line open each article. Tags are IOB2 over the non-overlapping
entities (see `tokens`). `python -m spacy convert FILE OUT --converter ner` reads it.
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


def write(documents: Iterable[ExportDocument], context: WriterContext) -> Iterator[Chunk]:
    wanted = (d for d in documents if d["split"] in context.splits)
    pieces = ((a.document["split"], render(a)) for a in aligned_documents(wanted))
    yield from per_split_files(pieces, context.splits, lambda split: f"{split}.conll")
