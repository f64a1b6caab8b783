"""The native JSONL corpus (what `export_corpus --format jsonl` writes) with its annotations.

One article a line: the article fields (checked as `importers.jsonl` checks them), `layer`
(status, adjudicated_by / _at, annotator, model_version), `mentions` (`id`, `label`, `start`,
`end`, `text`, optional `actor`, `score`, `provenance`), `events` (`type`, `trigger`, `mode`,
`realis`, `contexts`, `arguments` of `{"role", "mention"}`, optional `not_stated`, `score`,
`provenance`) and `stances` (`label`, `holder` / `target` mention ids or null, `target_actor`,
`scope`, `evidence`, …). Argument, holder and target ids must name a mention of the same line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from annotations.errors import ImportFailed
from annotations.importers.annotated import (
    AnnotatedArticle,
    AnnotatedFile,
    EventIn,
    MentionIn,
    ReadOptions,
    StanceIn,
)
from annotations.importers.base import json_lines, json_type_name
from annotations.importers.jsonl import FIELDS as ARTICLE_FIELDS
from annotations.importers.jsonl import article_from


class _Line:
    """Reads one line's items, collecting `path:line:field: message` errors."""

    def __init__(self, where: str, options: ReadOptions):
        self.where = where
        self.options = options
        self.errors: list[str] = []

    def error(self, field: str, message: str) -> None:
        self.errors.append(f"{self.where}:{field}: {message}")

    def objects(self, record: dict[str, Any], field: str) -> list[dict[str, Any]]:
        value = record.get(field) or []
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            self.error(field, f"must be an array of objects, not {json_type_name(value)}")
            return []
        return value

    def label(self, item: dict[str, Any], key: str, field: str, kind: str, name: str) -> str:
        original = item.get(key)
        if not isinstance(original, str):
            self.error(field, f"{name}: {key!r} must be a string, not {json_type_name(original)}")
            return ""
        label = self.options.mapped(original)
        if self.options.kind_of(label) != kind:
            self.error(field, f"{name}: {self.options.unknown(label, original, kind)}")
        return label

    def mention_ref(self, value: Any, known: set[str], field: str, name: str) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or value not in known:
            self.error(field, f"{name}: unknown mention {value!r}")
            return None
        return value


def _item_name(item: dict[str, Any], kind: str, index: int) -> str:
    return f"{kind} {item.get('id') or index}"


def annotated_from(record: dict[str, Any], number: int, where: str, options: ReadOptions) -> AnnotatedArticle | None:
    """One line as an AnnotatedArticle; None (with errors in `line.errors`) when it can't be."""
    article, problems = article_from({k: v for k, v in record.items() if k in ARTICLE_FIELDS}, where)
    reader = _Line(where, options)
    reader.errors += problems
    if article is None:
        raise ImportFailed(reader.errors)
    layer = record.get("layer") or {}
    if not isinstance(layer, dict):
        reader.error("layer", f"must be an object, not {json_type_name(layer)}")
        layer = {}
    result = AnnotatedArticle(article=article, line=number, layer=layer)
    keys: set[str] = set()
    for index, item in enumerate(reader.objects(record, "mentions")):
        name = _item_name(item, "mention", index)
        label = reader.label(item, "label", "label", "entity", name)
        key = item.get("id")
        if not isinstance(key, str) or key in keys:
            reader.error("mentions", f"{name}: needs a unique string id, got {key!r}")
            continue
        keys.add(key)
        result.mentions.append(
            MentionIn(
                key=key,
                label=label,
                start=item.get("start"),  # type: ignore[arg-type]  # checked by the service
                end=item.get("end"),  # type: ignore[arg-type]
                line=number,
                text=item.get("text"),
                score=item.get("score"),
                actor=item.get("actor"),
                provenance=item.get("provenance"),
            )
        )
    for index, item in enumerate(reader.objects(record, "events")):
        name = _item_name(item, "event", index)
        event_type = reader.label(item, "type", "type", "event", name)
        trigger = item.get("trigger")
        if not isinstance(trigger, dict):
            reader.error("trigger", f"{name}: must be an object with start, end and text")
            continue
        arguments: list[tuple[str, str]] = []
        for argument in reader.objects(item, "arguments"):
            mention = reader.mention_ref(argument.get("mention"), keys, "arguments", name)
            if mention is not None:
                arguments.append((self_mapped(options, argument.get("role")), mention))
        not_stated = item.get("not_stated") or []
        result.events.append(
            EventIn(
                key=str(item.get("id") or index),
                event_type=event_type,
                trigger_start=trigger.get("start"),  # type: ignore[arg-type]
                trigger_end=trigger.get("end"),  # type: ignore[arg-type]
                trigger_text=trigger.get("text"),
                line=number,
                mode=item.get("mode") or "",
                realis=item.get("realis") or "actual",
                contexts=item.get("contexts") or [],
                arguments=arguments,
                not_stated=[self_mapped(options, role) for role in not_stated]
                if isinstance(not_stated, list)
                else not_stated,
                score=item.get("score"),
                provenance=item.get("provenance"),
            )
        )
    for index, item in enumerate(reader.objects(record, "stances")):
        name = _item_name(item, "stance", index)
        label = reader.label(item, "label", "label", "stance", name)
        evidence = item.get("evidence") or {}
        if not isinstance(evidence, dict):
            reader.error("evidence", f"{name}: must be an object with start, end and text, or null")
            continue
        result.stances.append(
            StanceIn(
                key=str(item.get("id") or index),
                label=label,
                line=number,
                holder=reader.mention_ref(item.get("holder"), keys, "holder", name),
                target=reader.mention_ref(item.get("target"), keys, "target", name),
                target_actor=item.get("target_actor"),
                scope=item.get("scope") or "sentence",
                evidence_start=evidence.get("start"),
                evidence_end=evidence.get("end"),
                evidence_text=evidence.get("text"),
                score=item.get("score"),
                provenance=item.get("provenance"),
            )
        )
    if reader.errors:
        raise ImportFailed(reader.errors)
    return result


def self_mapped(options: ReadOptions, role: Any) -> Any:
    """A role name through the label map (roles may be renamed too); anything else as it is."""
    return options.mapped(role) if isinstance(role, str) else role


def read(path: Path, options: ReadOptions, name: str) -> AnnotatedFile:
    """Every line of the file; errors name `name:line:field`."""
    result = AnnotatedFile()
    errors: list[str] = []
    for number, record in json_lines(path, errors):
        try:
            annotated = annotated_from(record, number, f"{name}:{number}", options)
        except ImportFailed as failed:
            errors += failed.errors
            continue
        if annotated is not None:
            result.articles.append(annotated)
    if errors:
        raise ImportFailed([error.replace(str(path), name, 1) for error in errors])
    return result
