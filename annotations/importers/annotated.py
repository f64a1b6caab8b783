"""What every annotated-corpus reader returns: articles with their mentions, events and stances.

A reader (`annotated_jsonl`, `brat`, `doccano`, `labelstudio`) turns one input into an
`AnnotatedFile` or raises `ImportFailed` listing every problem as `file:line:field: message`.
Items refer to each other by the reader's own keys (m0, T3, a region id); the import service
(`annotations.services.annotated_import`) stores them through the item services, which check the
schema again. Labels pass through the `--label-map` first; a label the schema doesn't know after
mapping is an error naming it and its line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from annotations.schema import LabelSchema
from annotations.services.articles import ArticleInput


@dataclass
class MentionIn:
    key: str
    label: str
    start: int
    end: int
    line: int
    text: str | None = None
    score: float | None = None
    actor: dict[str, Any] | None = None
    provenance: dict[str, Any] | None = None


@dataclass
class EventIn:
    key: str
    event_type: str
    trigger_start: int
    trigger_end: int
    line: int
    trigger_text: str | None = None
    mode: str = ""
    realis: str = "actual"
    contexts: list[str] = field(default_factory=list)
    arguments: list[tuple[str, str]] = field(default_factory=list)  # (role, mention key)
    not_stated: list[str] = field(default_factory=list)
    score: float | None = None
    provenance: dict[str, Any] | None = None


@dataclass
class StanceIn:
    key: str
    label: str
    line: int
    holder: str | None = None  # a mention key; None: the article's author
    target: str | None = None
    target_actor: dict[str, Any] | None = None
    scope: str = "sentence"
    evidence_start: int | None = None
    evidence_end: int | None = None
    evidence_text: str | None = None
    score: float | None = None
    provenance: dict[str, Any] | None = None


@dataclass
class AnnotatedArticle:
    """One article and one layer's annotations; `layer` is what the file says about that layer
    (native JSONL only: status, adjudicated_by, adjudicated_at, annotator, model_version)."""

    article: ArticleInput
    line: int
    mentions: list[MentionIn] = field(default_factory=list)
    events: list[EventIn] = field(default_factory=list)
    stances: list[StanceIn] = field(default_factory=list)
    layer: dict[str, Any] = field(default_factory=dict)


@dataclass
class AnnotatedFile:
    articles: list[AnnotatedArticle] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ReadOptions:
    """What a reader needs besides the file: the schema, the label map, and (Label Studio) whether
    to read the model's `predictions` instead of the annotators' `annotations`."""

    schema: LabelSchema
    label_map: Mapping[str, str] = field(default_factory=dict)
    predictions: bool = False

    def mapped(self, label: str) -> str:
        return self.label_map.get(label, label)

    def kind_of(self, label: str) -> str | None:
        """ "entity", "event", "stance" or "role" for a (mapped) label the schema knows, else None."""
        if label in self.schema.entity_types:
            return "entity"
        if label in self.schema.event_types:
            return "event"
        if label in self.schema.stance_labels:
            return "stance"
        if any(label in spec.roles for spec in self.schema.event_types.values()):
            return "role"
        return None

    def unknown(self, label: str, original: str, what: str) -> str:
        mapped = f" (mapped from {original!r})" if original != label else ""
        return f"unknown {what} label {label!r}{mapped}; map it with --label-map or add it to the schema"


@dataclass
class Span:
    """A labelled span of a span-and-relation format (doccano, Label Studio)."""

    key: str
    start: Any  # as the file gives them; `span_errors` checks them
    end: Any
    label: str
    line: int
    text: str | None = None
    score: float | None = None


@dataclass
class Relation:
    """A labelled link between two spans: an event argument (trigger → mention, a role) or a stance
    (holder mention → target mention, a stance label)."""

    source: str
    target: str
    label: str
    line: int


def span_errors(text: str, start: Any, end: Any, quoted: str | None, where: str, name: str) -> list[str]:
    """Offsets that are integers, inside the text, in order, and (when quoted) match it."""
    if not isinstance(start, int) or isinstance(start, bool) or not isinstance(end, int) or isinstance(end, bool):
        return [f"{where}:offsets: {name}: start and end must be integers, got {start!r} and {end!r}"]
    if not 0 <= start < end <= len(text):
        return [f"{where}:offsets: {name}: [{start}, {end}) is not a span of the text ({len(text)} characters)"]
    if quoted is not None and text[start:end] != quoted:
        return [f"{where}:text: {name}: {quoted!r} does not match the text at [{start}, {end}), {text[start:end]!r}"]
    return []


def from_spans(
    article: ArticleInput, spans: list[Span], relations: list[Relation], options: ReadOptions, source: str
) -> tuple[AnnotatedArticle, list[str]]:
    """Spans and relations as mentions, event triggers with arguments, and stances (errors: `source:line:…`).

    A span labelled with an entity type is a mention; with an event type, an event's trigger. A
    relation from a trigger to a mention labelled with a role is an argument; one between two
    mentions labelled with a stance label is a stance (holder → target).
    """
    errors: list[str] = []
    result = AnnotatedArticle(article=article, line=spans[0].line if spans else 0)
    events: dict[str, EventIn] = {}
    mentions: set[str] = set()
    for span in spans:
        at = f"{source}:{span.line}"
        label = options.mapped(span.label)
        problems = span_errors(article.text, span.start, span.end, span.text, at, f"span {span.key}")
        kind = options.kind_of(label)
        if kind not in ("entity", "event"):
            problems.append(f"{at}:label: {options.unknown(label, span.label, 'span')}")
        if problems:
            errors += problems
            continue
        if kind == "entity":
            result.mentions.append(
                MentionIn(key=span.key, label=label, start=span.start, end=span.end, line=span.line, score=span.score)
            )
            mentions.add(span.key)
        else:
            event = EventIn(
                key=span.key,
                event_type=label,
                trigger_start=span.start,
                trigger_end=span.end,
                line=span.line,
                score=span.score,
            )
            events[span.key] = event
            result.events.append(event)
    for relation in relations:
        at = f"{source}:{relation.line}"
        label = options.mapped(relation.label)
        kind = options.kind_of(label)
        ends = (relation.source in events or relation.source in mentions, relation.target in mentions)
        if kind not in ("role", "stance"):
            errors.append(f"{at}:relations: {options.unknown(label, relation.label, 'relation')}")
        elif not all(ends):
            missing = relation.source if not ends[0] else relation.target
            errors.append(f"{at}:relations: {label} points at {missing!r}, which is not a span of this text")
        elif kind == "role":
            if relation.source not in events:
                errors.append(f"{at}:relations: role {label!r} must go from an event trigger to a mention")
            else:
                events[relation.source].arguments.append((label, relation.target))
        elif relation.source in events:
            errors.append(f"{at}:relations: stance {label!r} must go from a mention (holder) to a mention (target)")
        else:
            result.stances.append(
                StanceIn(
                    key=f"{relation.source}->{relation.target}",
                    label=label,
                    line=relation.line,
                    holder=relation.source,
                    target=relation.target,
                )
            )
    return result, errors
