"""brat standoff: `annotation.conf` + `<split>/<article key>.txt` and `.ann` per article.

- T lines: mentions (label = entity type), then event triggers (label = event type). A span
  holding a tab or line break becomes fragments (`start end;start end`), as brat needs its
  text on one line; the text field is the fragments' texts joined by one space.
- E lines: `E1\tTYPE:T9 actor:T1 actor2:T2 place:T3` (a repeated role is numbered, as brat does).
- `#` notes: `AnnotatorNotes T# value=2023-12-04 granularity=day [flag=…]` on DATE mentions;
- A lines: `Realis` and `Mode` (multi-valued) and `Context_<name>` (binary) on events,
  `NotStated E# <role>` once per role the text does not state;
  `AuthorStance T# LABEL` when the article's author holds a stance toward a mention.
- R lines: stance between two mentions, `R1\tLABEL Arg1:T<holder> Arg2:T<target>`.
Stances toward an actor without a mention, scores and actor links have no brat form here;
the JSONL export keeps them. The .txt is the article text byte for byte (UTF-8).
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterable, Iterator

from annotations.exports.base import Chunk, ExportDocument, WriterContext
from annotations.schema import LabelSchema

CONF_MEMBER = "annotation.conf"
# The attribute of an event naming a role the text does not state (one A line per role).
NOT_STATED = "NotStated"
# Characters that may not appear in the text field of a T line (brat reads .ann line by line).
_BREAKS = re.compile(r"[\t\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]+")
_NON_WORD = re.compile(r"\W")


def fragments(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """[start, end) cut at tabs and line breaks; each piece trimmed, white-space-only pieces dropped."""
    pieces: list[tuple[int, int]] = []
    position = start
    for match in [*_BREAKS.finditer(text, start, end), None]:
        stop = match.start() if match else end
        left, right = position, stop
        while left < right and text[left].isspace():
            left += 1
        while right > left and text[right - 1].isspace():
            right -= 1
        if left < right:
            pieces.append((left, right))
        if match:
            position = match.end()
    return pieces or [(start, end)]


def context_attribute(context: str) -> str:
    return "Context_" + _NON_WORD.sub("_", context)


def _cardinality(low: int, high: int | None) -> str:
    if high is None:
        return "+" if low >= 1 else "*"
    if (low, high) == (0, 1):
        return "?"
    if (low, high) == (1, 1):
        return ""
    return f"{{{low}-{high}}}"


def annotation_conf(schema: LabelSchema, entity_labels: Iterable[str]) -> str:
    lines = ["# brat configuration written by the workbench export from the project's label schema.", ""]
    lines += ["[entities]", *entity_labels, "", "[relations]"]
    lines += [f"{label} Arg1:<ENTITY>, Arg2:<ENTITY>" for label in schema.stance_labels]
    lines += ["<OVERLAP> Arg1:<ENTITY>, Arg2:<ENTITY>, <OVL-TYPE>:<ANY>", "", "[events]"]
    for code, event_type in schema.event_types.items():
        roles = [
            f"{role.name}{_cardinality(role.min, role.max)}:{'|'.join(sorted(role.entity_types))}"
            for role in event_type.roles.values()
        ]
        lines.append(f"{code} {', '.join(roles)}".rstrip())
    modes = list(dict.fromkeys(mode for e in schema.event_types.values() for mode in e.modes))
    lines += ["", "[attributes]", f"Realis Arg:<EVENT>, Value:{'|'.join(schema.realis)}"]
    if modes:
        lines.append(f"Mode Arg:<EVENT>, Value:{'|'.join(modes)}")
    lines += [f"{context_attribute(c)} Arg:<EVENT>" for c in schema.contexts]
    roles = list(dict.fromkeys(role for e in schema.event_types.values() for role in e.roles))
    if roles:
        lines.append(f"{NOT_STATED} Arg:<EVENT>, Value:{'|'.join(roles)}")
    lines.append(f"AuthorStance Arg:<ENTITY>, Value:{'|'.join(schema.stance_labels)}")
    return "\n".join(lines) + "\n"


def standoff(document: ExportDocument) -> str:
    """The .ann file of one document."""
    text = document["text"]
    lines: list[str] = []
    t_numbers = itertools.count(1)

    def t_line(label: str, start: int, end: int) -> str:
        number = next(t_numbers)
        pieces = fragments(text, start, end)
        offsets = ";".join(f"{s} {e}" for s, e in pieces)
        lines.append(f"T{number}\t{label} {offsets}\t{' '.join(text[s:e] for s, e in pieces)}")
        return f"T{number}"

    entity_ids = {m["id"]: t_line(m["label"], m["start"], m["end"]) for m in document["mentions"]}
    # A DATE mention's normalised value (exports.event_data) as brat's annotator note on its span.
    notes = 0
    for mention in document["mentions"]:
        found: dict[str, object] = mention  # type: ignore[assignment]
        if "value" in found:
            notes += 1
            value = f"value={found['value'] or ''} granularity={found.get('granularity') or ''}"
            flag = f" flag={found['date_flag']}" if found.get("date_flag") else ""
            lines.append(f"#{notes}\tAnnotatorNotes {entity_ids[mention['id']]}\t{value}{flag}")
    triggers = {e["id"]: t_line(e["type"], e["trigger"]["start"], e["trigger"]["end"]) for e in document["events"]}

    attributes = 0

    def a_line(body: str) -> None:
        nonlocal attributes
        attributes += 1
        lines.append(f"A{attributes}\t{body}")

    # An event without arguments keeps only its trigger span: brat allows `E1\tTYPE:T1`, but common
    # readers (bratly) refuse the whole file for it; the manifest counts these.
    events = [event for event in document["events"] if event["arguments"]]
    for number, event in enumerate(events, start=1):
        seen: Counter[str] = Counter()
        arguments = []
        for argument in event["arguments"]:
            seen[argument["role"]] += 1
            role = argument["role"] + (str(seen[argument["role"]]) if seen[argument["role"]] > 1 else "")
            arguments.append(f" {role}:{entity_ids[argument['mention']]}")
        lines.append(f"E{number}\t{event['type']}:{triggers[event['id']]}{''.join(arguments)}")
        a_line(f"Realis E{number} {event['realis']}")
        if event["mode"]:
            a_line(f"Mode E{number} {event['mode']}")
        for context in event["contexts"]:
            a_line(f"{context_attribute(context)} E{number}")
        for role in event.get("not_stated", ()):
            a_line(f"{NOT_STATED} E{number} {role}")

    relations = 0
    for stance in document["stances"]:
        if stance["target"] is None:
            continue
        target = entity_ids[stance["target"]]
        if stance["holder"] is None:
            a_line(f"AuthorStance {target} {stance['label']}")
        else:
            relations += 1
            lines.append(f"R{relations}\t{stance['label']} Arg1:{entity_ids[stance['holder']]} Arg2:{target}")
    return "".join(f"{line}\n" for line in lines)


def write(documents: Iterable[ExportDocument], context: WriterContext) -> Iterator[Chunk]:
    conf = annotation_conf(context.schema, context.entity_labels).encode("utf-8")
    yield Chunk(CONF_MEMBER, conf)
    # Every requested split gets its folder, an empty one too (brat reads the nearest annotation.conf).
    for split in context.splits:
        yield Chunk(f"{split}/{CONF_MEMBER}", conf)
    for document in documents:
        if document["split"] not in context.splits:
            continue
        stem = f"{document['split']}/{document['id']}"
        yield Chunk(f"{stem}.txt", document["text"].encode("utf-8"))
        yield Chunk(f"{stem}.ann", standoff(document).encode("utf-8"))
