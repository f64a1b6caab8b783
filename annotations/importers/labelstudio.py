"""Label Studio JSON export: a list of tasks, each `data.text` with `annotations` and `predictions`.

Regions of type `labels` (`value.start`, `value.end`, `value.text`, `value.labels`) are spans: an
entity type makes a mention, an event type a trigger; `relation` results (`from_id` → `to_id`,
`labels`) make arguments (a role) or stances (a stance label), as in `annotated.from_spans`.
Other result types (choices, textarea, …) are ignored with a warning.

Which results: the annotators' `annotations` (those not cancelled; a task with more than one is
refused: import one annotator's export per layer) — or, for a machine layer (`--annotations
machine:<version>`), the model's `predictions` with their scores (a region's `score`, else the
prediction's). Optional task fields `data.title`, `data.source`, `data.url`, `data.published`,
`data.language`. Errors read `file:line:field: message`, the line where the task starts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from annotations.errors import ImportFailed
from annotations.importers.annotated import AnnotatedFile, ReadOptions, Relation, Span, from_spans
from annotations.importers.base import read_text
from annotations.importers.doccano import article_of
from annotations.json_limits import JSONTooDeep, check_json_depth, max_depth


def tasks(text: str, name: str) -> list[tuple[int, Any]]:
    """The top-level array's items with the line each starts on."""
    decoder = json.JSONDecoder()
    position = len(text) - len(text.lstrip())
    if text[position : position + 1] != "[":
        raise ImportFailed([f"{name}:1:tasks: expected a JSON array of tasks (Label Studio's JSON export)"])
    position += 1
    found: list[tuple[int, Any]] = []
    while True:
        while position < len(text) and text[position] in " \t\r\n,":
            position += 1
        if position >= len(text):
            raise ImportFailed([f"{name}:{text.count(chr(10)) + 1}: malformed JSON (the array is not closed)"])
        if text[position] == "]":
            return found
        line = text.count("\n", 0, position) + 1
        try:
            value, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            raise ImportFailed([f"{name}:{exc.lineno}: malformed JSON ({exc.msg} at column {exc.colno})"]) from None
        except RecursionError:
            raise ImportFailed([f"{name}:{line}: JSON {JSONTooDeep(max_depth())}"]) from None
        try:
            check_json_depth(value)
        except JSONTooDeep as exc:
            raise ImportFailed([f"{name}:{line}: JSON {exc}"]) from None
        found.append((line, value))


def _results(task: dict[str, Any], options: ReadOptions, where: str) -> tuple[list[tuple[Any, float | None]], str]:
    """(result, default score) pairs of the chosen annotation or prediction; an error message or ""."""
    if options.predictions:
        chosen = task.get("predictions") or []
    else:
        chosen = [a for a in task.get("annotations") or [] if isinstance(a, dict) and not a.get("was_cancelled")]
        if len(chosen) > 1:
            return [], f"{where}:annotations: {len(chosen)} annotations on this task; import one annotator at a time"
    pairs: list[tuple[Any, float | None]] = []
    for entry in chosen:
        if not isinstance(entry, dict) or not isinstance(entry.get("result", []), list):
            return [], f"{where}:result: must be an array of results"
        score = entry.get("score")
        pairs += [(result, score if isinstance(score, (int, float)) else None) for result in entry.get("result", [])]
    return pairs, ""


def read(path: Path, options: ReadOptions, name: str) -> AnnotatedFile:
    result = AnnotatedFile()
    errors: list[str] = []
    ignored: dict[str, int] = {}
    for line, task in tasks(read_text(path), name):
        where = f"{name}:{line}"
        data = task.get("data") if isinstance(task, dict) else None
        if not isinstance(data, dict):
            errors.append(f"{where}:data: each task needs a data object with the text")
            continue
        article, problems = article_of(data, where, {"label_studio_task": task.get("id")} if "id" in task else {})
        pairs, problem = _results(task, options, where)
        if article is None or problems or problem:
            errors += problems + ([problem] if problem else [])
            continue
        spans: list[Span] = []
        relations: list[Relation] = []
        for item, default_score in pairs:
            kind = item.get("type") if isinstance(item, dict) else None
            if kind == "labels":
                value = item.get("value") or {}
                labels = value.get("labels") if isinstance(value, dict) else None
                if not isinstance(labels, list) or len(labels) != 1 or not isinstance(labels[0], str):
                    errors.append(f"{where}:labels: region {item.get('id')!r} needs exactly one label, got {labels!r}")
                    continue
                score = item.get("score", default_score)
                spans.append(
                    Span(
                        key=str(item.get("id")),
                        start=value.get("start"),
                        end=value.get("end"),
                        label=labels[0],
                        line=line,
                        text=value.get("text"),
                        score=score if isinstance(score, (int, float)) else None,
                    )
                )
            elif kind == "relation":
                for label in item.get("labels") or []:
                    relations.append(
                        Relation(source=str(item.get("from_id")), target=str(item.get("to_id")), label=label, line=line)
                    )
            else:
                ignored[str(kind)] = ignored.get(str(kind), 0) + 1
        annotated, item_problems = from_spans(article, spans, relations, options, name)
        annotated.line = line
        errors += item_problems
        result.articles.append(annotated)
    if errors:
        raise ImportFailed(errors)
    result.warnings += [
        f"{name}: ignored {count} result(s) of type {kind!r}" for kind, count in sorted(ignored.items())
    ]
    return result
