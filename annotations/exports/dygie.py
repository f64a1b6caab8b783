"""DyGIE++ JSON lines, one file per split (`train.json`, …), one article per line.

{"doc_key": <article key>, "dataset": <project slug>, "sentences": [[word, …], …],
 "ner": [[[start, end, label], …] per sentence], "relations": [...], "events": [...]}

Token indices are document-level and ends inclusive. Every mention whose words lie in one
sentence is an NER span (sentences never break inside a mention; on the same words the first
mention in export order wins). A trigger is one word: the first word of the trigger span. Event
arguments are the mentions of the trigger's sentence; ones elsewhere are left out, as DyGIE++
extracts events within a sentence. Relations carry stance between two mentions of one sentence:
[holder_start, holder_end, target_start, target_end, label]; stances held by the author or aimed
at an actor without a mention have no DyGIE++ form and are left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from annotations.exports.base import Chunk, ExportDocument, WriterContext, per_split_files
from annotations.exports.tokens import AlignedDocument, aligned_documents


def dygie_document(aligned: AlignedDocument, dataset: str) -> dict[str, Any]:
    document = aligned.document
    sentence_of = aligned.sentence_of_word
    count = len(aligned.sentences)
    ner: list[list[list[Any]]] = [[] for _ in range(count)]
    relations: list[list[list[Any]]] = [[] for _ in range(count)]
    events: list[list[list[list[Any]]]] = [[] for _ in range(count)]

    spans: dict[str, tuple[int, int]] = {}
    seen: set[tuple[int, int]] = set()
    for mention in document["mentions"]:
        span = aligned.mention_words(mention["id"])
        if span is None or sentence_of[span[0]] != sentence_of[span[1]]:
            continue
        spans[mention["id"]] = span
        if span not in seen:
            seen.add(span)
            ner[sentence_of[span[0]]].append([span[0], span[1], mention["label"]])

    triggers: set[int] = set()
    for event in document["events"]:
        trigger_span = aligned.trigger_words(event["id"])
        if trigger_span is None or trigger_span[0] in triggers:
            continue
        trigger = trigger_span[0]
        triggers.add(trigger)
        sentence = sentence_of[trigger]
        entry: list[list[Any]] = [[trigger, event["type"]]]
        for argument in event["arguments"]:
            span = spans.get(argument["mention"])
            if span is not None and sentence_of[span[0]] == sentence:
                entry.append([span[0], span[1], argument["role"]])
        events[sentence].append(entry)

    for stance in document["stances"]:
        holder = spans.get(stance["holder"] or "")
        target = spans.get(stance["target"] or "")
        if holder is None or target is None or sentence_of[holder[0]] != sentence_of[target[0]]:
            continue
        relations[sentence_of[holder[0]]].append([holder[0], holder[1], target[0], target[1], stance["label"]])

    return {
        "doc_key": document["id"],
        "dataset": dataset,
        "sentences": [aligned.words[start:end] for start, end in aligned.sentences],
        "ner": ner,
        "relations": relations,
        "events": events,
    }


def write(documents: Iterable[ExportDocument], context: WriterContext) -> Iterator[Chunk]:
    wanted = (d for d in documents if d["split"] in context.splits)
    pieces = (
        (
            a.document["split"],
            orjson.dumps(dygie_document(a, context.project_slug), option=orjson.OPT_APPEND_NEWLINE),
        )
        for a in aligned_documents(wanted)
    )
    yield from per_split_files(pieces, context.splits, lambda split: f"{split}.json")
