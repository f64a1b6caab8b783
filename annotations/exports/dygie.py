"""DyGIE++ JSON lines, one file per split (`train.json`, …), one article per line.

{"doc_key": <article key>, "dataset": <project slug>, "sentences": [[word, …], …],
 "ner": [[[start, end, label], …] per sentence], "relations": [...], "events": [...]}

Token indices are document-level and ends inclusive. Every mention whose words lie in one
sentence is an NER span (sentences never break inside a mention; on the same words the first
mention in export order wins). A trigger is one word: the first word of the trigger span. Event
arguments are the mentions of the trigger's sentence; ones elsewhere are left out, as DyGIE++
extracts events within a sentence. Relations carry stance between two mentions of one sentence:
[holder_start, holder_end, target_start, target_end, label]; stances held by the author or aimed
at an actor without a mention have no DyGIE++ form and are left out. The manifest counts each of
these, and the spans longer than DyGIE++'s default `max_span_width` (kept: it can't predict them).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from annotations.exports.base import Chunk, ExportDocument, ExportNotes, WriterContext, per_split_files
from annotations.exports.tokens import AlignedDocument, aligned_documents

# DyGIE++'s default: its span enumerator proposes spans of up to this many tokens.
MAX_SPAN_WIDTH = 8


def dygie_document(aligned: AlignedDocument, dataset: str, notes: ExportNotes | None = None) -> dict[str, Any]:
    document = aligned.document
    notes = notes if notes is not None else ExportNotes()
    sentence_of = aligned.sentence_of_word
    count = len(aligned.sentences)
    ner: list[list[list[Any]]] = [[] for _ in range(count)]
    relations: list[list[list[Any]]] = [[] for _ in range(count)]
    events: list[list[list[list[Any]]]] = [[] for _ in range(count)]

    spans: dict[str, tuple[int, int]] = {}
    seen: set[tuple[int, int]] = set()
    for mention in document["mentions"]:
        span = aligned.mention_words(mention["id"])
        if span is None:
            notes.add("mentions", 1, "cover no word: left out")
            continue
        if sentence_of[span[0]] != sentence_of[span[1]]:
            notes.add("mentions", 1, "across sentences: left out")
            continue
        spans[mention["id"]] = span
        if span not in seen:
            seen.add(span)
            ner[sentence_of[span[0]]].append([span[0], span[1], mention["label"]])
            if span[1] - span[0] + 1 > MAX_SPAN_WIDTH:
                notes.add("spans", 1, f"longer than {MAX_SPAN_WIDTH} tokens, DyGIE++'s default max_span_width (kept)")
        else:
            notes.add("mentions", 1, "on the same words as an earlier one: left out of ner (kept the earlier)")

    triggers: set[int] = set()
    for event in document["events"]:
        trigger_span = aligned.trigger_words(event["id"])
        if trigger_span is None:
            notes.add("events", 1, "trigger covers no word: left out")
            continue
        if trigger_span[0] in triggers:
            notes.add("events", 1, "trigger on the word of an earlier event's trigger: left out")
            continue
        if trigger_span[1] > trigger_span[0]:
            notes.add("triggers", 1, "of several words cut to their first word (DyGIE++ triggers are one token)")
        trigger = trigger_span[0]
        triggers.add(trigger)
        sentence = sentence_of[trigger]
        entry: list[list[Any]] = [[trigger, event["type"]]]
        for argument in event["arguments"]:
            span = spans.get(argument["mention"])
            if span is not None and sentence_of[span[0]] == sentence:
                entry.append([span[0], span[1], argument["role"]])
            elif span is None:
                notes.add("arguments", 1, "whose mention is left out of ner: left out")
            else:
                notes.add("arguments", 1, "outside their trigger's sentence: left out")
        events[sentence].append(entry)

    for stance in document["stances"]:
        holder = spans.get(stance["holder"] or "")
        target = spans.get(stance["target"] or "")
        if stance["holder"] is None or stance["target"] is None:
            notes.add("stances", 1, "held by the author or aimed at an actor without a mention: left out")
            continue
        if holder is None or target is None:
            notes.add("stances", 1, "whose holder or target is left out of ner: left out")
            continue
        if sentence_of[holder[0]] != sentence_of[target[0]]:
            notes.add("stances", 1, "across sentences: left out")
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
            orjson.dumps(dygie_document(a, context.project_slug, context.notes), option=orjson.OPT_APPEND_NEWLINE),
        )
        for a in aligned_documents(wanted, context)
    )
    yield from per_split_files(pieces, context.splits, lambda split: f"{split}.json")
