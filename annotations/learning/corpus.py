"""Gold rows → Frames: story keys, the deterministic dev hold-out, the PLOVER rows, gold and negatives on tokens."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from annotations.learning.features import AUTHOR, Frame, token_index, token_span, trigger_token

if TYPE_CHECKING:
    from spacy.tokens import Doc

PLOVER_PATH = Path(__file__).resolve().parent / "data" / "plover_gsr.jsonl"


def story_key(row: Mapping[str, Any]) -> str:
    key = row.get("story_key") or row.get("id")
    if key:
        return str(key)
    # The shared corpus rows carry neither: their URL (or text) names the article.
    basis = row.get("url") or row.get("title") or row.get("text", "")
    return "text:" + hashlib.sha1(str(basis).encode("utf-8")).hexdigest()[:12]


def hold_out(rows: Sequence[Mapping[str, Any]], share: float, seed: int) -> tuple[list[int], list[int]]:
    """(train indices, dev indices): whole stories, chosen by a seeded hash of their key (stable)."""
    keys = sorted({story_key(r) for r in rows if has_gold(r)})
    if len(keys) < 2:
        return list(range(len(rows))), []
    ranked = sorted(keys, key=lambda k: hashlib.sha1(f"{seed}:{k}".encode()).hexdigest())
    dev = set(ranked[: max(1, min(len(keys) - 1, math.ceil(share * len(keys))))])
    train = [i for i, r in enumerate(rows) if story_key(r) not in dev]
    return train, [i for i, r in enumerate(rows) if story_key(r) in dev]


def has_gold(row: Mapping[str, Any]) -> bool:
    return row.get("layer") is not None or bool(row.get("mentions") or row.get("events") or row.get("stances"))


def plover_rows() -> list[dict[str, Any]]:
    lines = PLOVER_PATH.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def is_default_schema(schema: Mapping[str, Any], default: Mapping[str, Any]) -> bool:
    return bool(schema.get("name")) and schema.get("name") == default.get("name")


def frame_from_row(doc: Doc, row: Mapping[str, Any], suggestions: Any) -> Frame:
    """The gold of `row` and the rules' `suggestions` (a DocumentSuggestions) on the tokens of `doc`."""
    starts = token_index(doc)
    frame = Frame(doc=doc, key=story_key(row), complete=has_gold(row))

    def span(start: int, end: int) -> tuple[int, int]:
        return token_span(starts, doc, start, end)

    ids: dict[str, int] = {}
    for m in row.get("mentions") or []:
        s, e = span(m["start"], m["end"])
        ids[m["id"]] = len(frame.mentions)
        frame.mentions.append((s, e, m["label"]))
    for event in row.get("events") or []:
        trigger = trigger_token(doc, span(event["trigger"]["start"], event["trigger"]["end"]))
        arguments = [(ids[a["mention"]], a["role"]) for a in event.get("arguments", []) if a.get("mention") in ids]
        frame.events.append((trigger, event["type"], arguments))
    for stance in row.get("stances") or []:
        if stance.get("target") not in ids:
            continue
        holder = ids.get(stance.get("holder") or "", AUTHOR)
        frame.stances.append((holder, ids[stance["target"]], stance["label"]))
    frame.unknown = {trigger_token(doc, span(s, e)) for s, e in row.get("unknown_triggers", [])}
    for negative in row.get("negatives") or []:
        kind = negative.get("kind")
        if kind == "event":
            frame.negative_events.append(
                (trigger_token(doc, span(negative["start"], negative["end"])), negative["type"])
            )
        elif kind == "argument":
            trigger = trigger_token(doc, span(negative["trigger_start"], negative["trigger_end"]))
            mention = span(negative["start"], negative["end"])
            frame.negative_args.append((trigger, negative["type"], mention, negative["role"]))
    if suggestions is not None:
        add_rule_output(frame, suggestions, starts)
    return frame


def add_rule_output(frame: Frame, suggestions: Any, starts: list[int]) -> None:
    doc = frame.doc
    spans = [token_span(starts, doc, m.start, m.end) for m in suggestions.mentions]
    for event in suggestions.events:
        trigger = trigger_token(doc, token_span(starts, doc, event.trigger_start, event.trigger_end))
        frame.rule_types.setdefault(trigger, set()).add(event.event_type)
        frame.rule_info[trigger] = rule_info(event)
        for argument in event.arguments:
            s, e = spans[argument.mention]
            frame.rule_args.append((trigger, s, e, argument.role))
    for stance in suggestions.stances:
        holder = None if stance.holder is None else spans[stance.holder]
        frame.rule_stances.append((holder, spans[stance.target], stance.label))


def rule_frame(gold: Frame, suggestions: Any) -> Frame:
    """The article as the Preannotator sees it in use: the rules' mentions and events, each rule event
    with the roles gold gives its mentions (none when gold has no event of that type on its trigger)."""
    doc = gold.doc
    starts = token_index(doc)
    frame = Frame(doc=doc, key=gold.key, complete=gold.complete, sentence_starts=gold.sentence_starts)
    frame.scored = gold.scored
    frame.mentions = [(*token_span(starts, doc, m.start, m.end), m.label) for m in suggestions.mentions]
    add_rule_output(frame, suggestions, starts)

    def same(a: tuple[int, int, str], b: tuple[int, int, str]) -> bool:
        return a[0] < b[1] and b[0] < a[1]

    for trigger, event_types in frame.rule_types.items():
        for event_type in sorted(event_types):
            match = next((e for e in gold.events if e[0] == trigger and e[1] == event_type), None)
            roles = []
            for m, mention in enumerate(frame.mentions):
                for g, role in match[2] if match else []:
                    if same(mention, gold.mentions[g]):
                        roles.append((m, role))
                        break
            frame.events.append((trigger, event_type, roles))
    return frame


def rule_info(event: Any) -> list[str]:
    """What a rule event says beyond its type: how many arguments and which roles, realis, score."""
    roles = sorted({a.role for a in event.arguments})
    return [
        f"nargs={min(len(event.arguments), 3)}",
        f"realis={event.realis}",
        f"score={round(event.score, 2)}",
        *(f"has={role}" for role in roles),
        f"no_actor={'actor' not in roles}",
    ]


def parse_rows(preannotator: Any, rows: Sequence[Mapping[str, Any]]) -> list[Frame]:
    """Every row parsed by the preannotator's model, with the rules' suggestions alongside; each gold
    frame carries its `rule_frame` as `.in_use`."""
    texts = [row.get("text") or "" for row in rows]
    frames = []
    for row, (doc, suggestions) in zip(rows, preannotator.parse(texts), strict=True):
        frame = frame_from_row(doc, row, suggestions)
        frame.in_use = rule_frame(frame, suggestions) if frame.complete else None
        frames.append(frame)
    return frames
