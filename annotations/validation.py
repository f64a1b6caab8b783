"""Checks every annotation write against the article text and the project's label schema.

Every write path (services called by the admin, the API, pre-annotation and import) goes
through these functions. Each failure raises InvalidAnnotation naming the offending field.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from typing import TYPE_CHECKING

from annotations.errors import InvalidAnnotation
from annotations.schema import LabelSchema

if TYPE_CHECKING:
    from annotations.models import Mention


# A blank line (possibly holding spaces or tabs) between two paragraphs.
PARAGRAPH_BREAK = re.compile(r"\n[^\S\n]*\n")


def validate_span(
    text: str, start: object, end: object, quoted: str | None, *, field: str = "", within_paragraph: bool = False
) -> str:
    """Check [start, end) lies inside `text` and matches `quoted` when given; return the quote.

    `within_paragraph` (mentions and event triggers): the span may not cross a paragraph break
    (a blank line), which would join two paragraphs into one sentence in the token exports."""
    prefix = f"{field}_" if field else ""
    if not isinstance(start, int) or isinstance(start, bool):
        raise InvalidAnnotation(f"{prefix}start", f"must be an integer, got {start!r}")
    if not isinstance(end, int) or isinstance(end, bool):
        raise InvalidAnnotation(f"{prefix}end", f"must be an integer, got {end!r}")
    if start < 0:
        raise InvalidAnnotation(f"{prefix}start", f"must be 0 or more, got {start}")
    if end > len(text):
        raise InvalidAnnotation(f"{prefix}end", f"{end} is past the end of the article text ({len(text)} characters)")
    if start >= end:
        raise InvalidAnnotation(f"{prefix}end", f"must be greater than start ({start}), got {end}")
    actual = text[start:end]
    if quoted is not None and quoted != actual:
        raise InvalidAnnotation(
            f"{prefix}text" if field else "text",
            f"{quoted!r} does not match the article text at [{start}, {end}), which is {actual!r}",
        )
    if not actual.strip():
        raise InvalidAnnotation(f"{prefix}start", f"the span [{start}, {end}) holds only white space")
    if within_paragraph and (found := PARAGRAPH_BREAK.search(actual)):
        raise InvalidAnnotation(
            f"{prefix}end",
            f"the span [{start}, {end}) crosses a paragraph break at {start + found.start()}: "
            "end it before the blank line",
        )
    return actual


def validate_mention_label(schema: LabelSchema, label: object) -> None:
    # isinstance first: an unhashable label (a list from a JSON body) must be a 400, not a TypeError.
    if not isinstance(label, str) or label not in schema.entity_types:
        raise InvalidAnnotation(
            "label", f"unknown entity type {label!r}; the schema has {', '.join(schema.entity_types)}"
        )


def validate_event(
    schema: LabelSchema,
    *,
    event_type: object,
    mode: str,
    realis: str,
    contexts: Sequence[str],
    arguments: Iterable[tuple[str, Mention]],
    layer_id: int,
    not_stated: object = (),
) -> None:
    """Event type, mode, realis and contexts from the schema; roles allowed, typed and counted;
    `not_stated` names roles of the type the text leaves implicit, each once and without an argument."""
    if not isinstance(event_type, str) or event_type not in schema.event_types:
        raise InvalidAnnotation(
            "event_type", f"unknown event type {event_type!r}; the schema has {', '.join(schema.event_types)}"
        )
    spec = schema.event_types[event_type]
    if not isinstance(mode, str):
        raise InvalidAnnotation("mode", f"must be a string (empty for no mode), got {mode!r}")
    if mode and mode not in spec.modes:
        allowed = ", ".join(spec.modes) or "none"
        raise InvalidAnnotation("mode", f"mode {mode!r} is not allowed for {spec.code} (allowed: {allowed})")
    if not isinstance(realis, str) or realis not in schema.realis:
        raise InvalidAnnotation("realis", f"unknown realis {realis!r}; allowed: {', '.join(schema.realis)}")
    if not isinstance(contexts, (list, tuple)):
        raise InvalidAnnotation("contexts", "must be a list of context names")
    listed: set[str] = set()  # each context of the schema at most once: as many as the schema has
    for context in contexts:
        if not isinstance(context, str) or context not in schema.contexts:
            raise InvalidAnnotation("contexts", f"unknown context {context!r}; allowed: {', '.join(schema.contexts)}")
        if context in listed:
            raise InvalidAnnotation("contexts", f"context {context!r} is listed twice")
        listed.add(context)
    counts: Counter[str] = Counter()
    seen: set[tuple[str, int]] = set()
    for role, mention in arguments:
        if not isinstance(role, str) or role not in spec.roles:
            raise InvalidAnnotation(
                "arguments", f"role {role!r} is not allowed for {spec.code} (roles: {', '.join(spec.roles)})"
            )
        if mention.layer_id != layer_id:
            raise InvalidAnnotation("arguments", f"mention {mention.pk} belongs to another layer")
        allowed_types = spec.roles[role].entity_types
        if mention.label not in allowed_types:
            raise InvalidAnnotation(
                "arguments",
                f"role {role!r} of {spec.code} takes {', '.join(sorted(allowed_types))}, "
                f"not a {mention.label} mention ({mention.text!r})",
            )
        if (role, mention.pk) in seen:
            raise InvalidAnnotation("arguments", f"mention {mention.pk} fills role {role!r} twice")
        seen.add((role, mention.pk))
        counts[role] += 1
    validate_not_stated(spec.code, spec.roles, not_stated, filled=counts)
    for role_spec in spec.roles.values():
        if role_spec.max is not None and counts[role_spec.name] > role_spec.max:
            raise InvalidAnnotation(
                "arguments",
                f"role {role_spec.name!r} of {spec.code} takes at most {role_spec.max} argument(s), "
                f"got {counts[role_spec.name]}",
            )


def validate_not_stated(code: str, roles: Collection[str], not_stated: object, *, filled: Collection[str]) -> None:
    """`not_stated` is a list of distinct roles of the event type, none of them also given an argument."""
    if not isinstance(not_stated, (list, tuple)):
        raise InvalidAnnotation("not_stated", f"must be a list of role names, got {not_stated!r}")
    seen: set[str] = set()
    for role in not_stated:
        if not isinstance(role, str) or role not in roles:
            raise InvalidAnnotation("not_stated", f"role {role!r} is not a role of {code} (roles: {', '.join(roles)})")
        if role in seen:
            raise InvalidAnnotation("not_stated", f"role {role!r} is listed twice")
        seen.add(role)
        if role in filled:
            raise InvalidAnnotation(
                "not_stated", f"role {role!r} has an argument, so it is stated; remove it from not_stated"
            )


def validate_event_complete(
    schema: LabelSchema, *, event_type: str, role_counts: Counter[str], not_stated: Iterable[str] = ()
) -> list[str]:
    """Roles still missing their minimum (a layer may be saved incomplete; `done` needs this empty).

    A role listed in `not_stated` (the text leaves it implicit) needs no argument.

    An event whose type (or a role it uses) left the schema after a schema change is a problem too,
    reported here rather than as a KeyError.
    """
    spec = schema.event_types.get(event_type)
    if spec is None:
        return [f"event type {event_type!r} is no longer in the label schema"]
    unknown = sorted(role for role, count in role_counts.items() if count and role not in spec.roles)
    implicit = set(not_stated)
    return [f"role {role!r} is no longer allowed for {spec.code}" for role in unknown] + [
        f"{spec.code} needs at least {role.min} {role.name!r} argument(s), has {role_counts[role.name]}"
        for role in spec.roles.values()
        if role_counts[role.name] < role.min and role.name not in implicit
    ]


def missing_roles(schema: LabelSchema, *, event_type: str, role_counts: Counter[str]) -> list[str]:
    """The roles of the event's type still short of their minimum (not counting `not_stated`)."""
    spec = schema.event_types.get(event_type)
    if spec is None:
        return []
    return [role.name for role in spec.roles.values() if role_counts[role.name] < role.min]


def validate_stance_label(schema: LabelSchema, label: object) -> None:
    if not isinstance(label, str) or label not in schema.stance_labels:
        raise InvalidAnnotation("label", f"unknown stance label {label!r}; allowed: {', '.join(schema.stance_labels)}")
