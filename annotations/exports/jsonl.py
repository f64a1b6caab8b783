"""Native JSON Lines: one ExportDocument per line, lossless, byte-stable (sorted keys).

Each line carries the article (key = content hash, title, text, source, url, published,
language, metadata), its split, the layer's provenance and every mention, event (with
arguments), stance, actor link and score. Ids inside a line are positional: m0…, e0…, s0….
`annotations.exporting.corpus_import_jsonl` reads these lines back.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import orjson

from annotations.exports.base import Chunk, ExportDocument, WriterContext

MEMBER = "corpus.jsonl"


def dumps_line(document: ExportDocument) -> bytes:
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE)


def write(documents: Iterable[ExportDocument], context: WriterContext) -> Iterator[Chunk]:
    yield Chunk(MEMBER, b"")
    for document in documents:
        if document["split"] in context.splits:
            yield Chunk(MEMBER, dumps_line(document))
