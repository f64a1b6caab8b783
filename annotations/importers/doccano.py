"""doccano sequence-labelling JSONL: one text a line with its labelled spans.

Both export forms are read: `{"text": ..., "label": [[start, end, "LABEL"], ...]}` (`labels` too),
and the relation project's `{"text": ..., "entities": [{"id", "start_offset", "end_offset", "label"}],
"relations": [{"from_id", "to_id", "type"}]}`. A span labelled with an entity type is a mention,
with an event type a trigger; a relation typed with a role goes from a trigger to its argument, one
typed with a stance label from the holder to the target (see `annotated.from_spans`). Optional
`title`, `source`, `url`, `published`, `language` and `meta` (kept as metadata); the title defaults
to the first line of the text. Every problem is reported as `file:line:field: message`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from annotations.errors import ImportFailed
from annotations.importers.annotated import AnnotatedFile, ReadOptions, Relation, Span, from_spans
from annotations.importers.base import checked, json_lines, json_type_name
from annotations.importers.jsonl import parse_published
from annotations.importers.txt import title_of
from annotations.services.articles import ArticleInput


def article_of(record: dict[str, Any], where: str, metadata: Any) -> tuple[ArticleInput | None, list[str]]:
    """The article fields a span-labelling tool keeps: text, optional title, source, url, date, language."""
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        return None, [f"{where}:text: must be a non-empty string, not {json_type_name(text)}"]
    try:
        published = parse_published(record.get("published"))
    except ValueError as exc:
        return None, [f"{where}:published: {exc}"]
    fields = {key: record.get(key) for key in ("title", "source", "url", "language")}
    for key, value in fields.items():
        if value is not None and not isinstance(value, str):
            return None, [f"{where}:{key}: must be a string, not {json_type_name(value)}"]
    article = ArticleInput(
        title=fields["title"] or title_of(text),
        text=text,
        source=fields["source"] or "",
        url=fields["url"] or "",
        published=published,
        language=fields["language"] or "",
        metadata=metadata if isinstance(metadata, dict) else {},
    )
    return article, checked(article, where)


def _spans(record: dict[str, Any], number: int, where: str) -> tuple[list[Span], list[Relation], list[str]]:
    spans: list[Span] = []
    relations: list[Relation] = []
    errors: list[str] = []
    if "entities" in record:
        entities = record["entities"]
        if not isinstance(entities, list):
            return [], [], [f"{where}:entities: must be an array, not {json_type_name(entities)}"]
        for index, entity in enumerate(entities):
            if not isinstance(entity, dict) or not isinstance(entity.get("label"), str):
                errors.append(f"{where}:entities: entity {index} must be an object with a string label")
                continue
            key = str(entity.get("id", index))
            start, end = entity.get("start_offset"), entity.get("end_offset")
            spans.append(Span(key=key, start=start, end=end, label=entity["label"], line=number))
        raw_relations = record.get("relations") or []
        if not isinstance(raw_relations, list):
            return [], [], [f"{where}:relations: must be an array, not {json_type_name(raw_relations)}"]
        for index, relation in enumerate(raw_relations):
            if not isinstance(relation, dict) or not isinstance(relation.get("type"), str):
                errors.append(f"{where}:relations: relation {index} must be an object with a string type")
                continue
            relations.append(
                Relation(
                    source=str(relation.get("from_id")),
                    target=str(relation.get("to_id")),
                    label=relation["type"],
                    line=number,
                )
            )
        return spans, relations, errors
    labels = record.get("label", record.get("labels", []))
    if not isinstance(labels, list):
        return [], [], [f"{where}:label: must be an array of [start, end, label], not {json_type_name(labels)}"]
    for index, triple in enumerate(labels):
        if not isinstance(triple, list) or len(triple) != 3 or not isinstance(triple[2], str):
            errors.append(f'{where}:label: item {index} must be [start, end, "LABEL"], got {triple!r}')
            continue
        spans.append(Span(key=str(index), start=triple[0], end=triple[1], label=triple[2], line=number))
    return spans, relations, errors


def read(path: Path, options: ReadOptions, name: str) -> AnnotatedFile:
    result = AnnotatedFile()
    errors: list[str] = []
    for number, record in json_lines(path, errors):
        where = f"{name}:{number}"
        article, problems = article_of(record, where, record.get("meta"))
        spans, relations, span_problems = _spans(record, number, where)
        if article is None or problems or span_problems:
            errors += problems + span_problems
            continue
        annotated, item_problems = from_spans(article, spans, relations, options, name)
        annotated.line = number
        errors += item_problems
        result.articles.append(annotated)
    if errors:
        raise ImportFailed([error.replace(str(path), name, 1) for error in errors])
    return result
