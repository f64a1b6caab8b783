"""Item services: entity mentions, events with their arguments, stances.

Keyword-only, typed, one transaction each. Every write is validated against the article text and
the project's label schema and bumps the layer's version (`layer_touch`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import Enum
from typing import Any

from django.db import IntegrityError, transaction

from annotations.errors import InvalidAnnotation
from annotations.models import (
    Actor,
    Event,
    EventArgument,
    Layer,
    Mention,
    Stance,
)
from annotations.schema import LabelSchema
from annotations.services.changes import (
    event_snapshot,
    logged,
    mention_delete_logger,
    mention_snapshot,
    stance_snapshot,
)
from annotations.services.layers import layer_schema, layer_touch
from annotations.validation import (
    validate_event,
    validate_mention_label,
    validate_span,
    validate_stance_label,
)


class Unchanged(Enum):
    """The default of an update's optional fields: keep the stored value (None would clear it)."""

    UNCHANGED = "unchanged"


UNCHANGED = Unchanged.UNCHANGED


@transaction.atomic
def mention_create(
    *,
    layer: Layer,
    label: str,
    start: int,
    end: int,
    text: str | None = None,
    actor: Actor | None = None,
    score: float | None = None,
    provenance: dict[str, Any] | None = None,
    expected_version: int | None = None,
) -> Mention:
    """Add an entity mention; offsets must lie in the text and match `text` when it is given."""
    article = layer.article
    validate_mention_label(layer_schema(layer), label)
    quoted = validate_span(article.text, start, end, text, within_paragraph=True)
    if Mention.objects.filter(layer=layer, start=start, end=end, label=label).exists():
        raise InvalidAnnotation("start", f"a {label} mention on [{start}, {end}) already exists in this layer")
    layer_touch(layer=layer, expected_version=expected_version)
    mention = Mention.objects.create(
        layer=layer,
        label=label,
        start=start,
        end=end,
        text=quoted,
        actor=actor,
        score=score,
        provenance=provenance or {},
    )
    return logged(layer, "mention", "create", mention)


def check_mention_update(*, mention: Mention, label: str, start: int, end: int, text: str | None = None) -> str:
    """What `mention_update` refuses, without writing: a label outside the schema, a span outside
    the text (or not quoting `text`), a label an event role the mention fills does not take, the
    same mention twice in the layer, a change to an adjudicated gold layer. Returns the quoted text."""
    layer = mention.layer
    schema = layer_schema(layer)
    validate_mention_label(schema, label)
    quoted = validate_span(layer.article.text, start, end, text, within_paragraph=True)
    for argument in mention.arguments.select_related("event"):
        spec = schema.event_types.get(argument.event.event_type)
        role = spec.roles.get(argument.role) if spec else None
        if role is None:
            continue  # type or role left the schema: layer_set_status reports it, not this edit
        if label not in role.entity_types:
            raise InvalidAnnotation(
                "label",
                f"the mention fills role {argument.role!r} of event {argument.event_id}, "
                f"which takes {', '.join(sorted(role.entity_types))}, not {label}",
            )
    duplicate = Mention.objects.filter(layer=layer, start=start, end=end, label=label).exclude(pk=mention.pk)
    if duplicate.exists():
        raise InvalidAnnotation("start", f"a {label} mention on [{start}, {end}) already exists")
    if Layer.objects.filter(pk=layer.pk, kind=Layer.Kind.GOLD, status=Layer.Status.ADJUDICATED).exists():
        raise InvalidAnnotation(
            "layer", f"gold layer {layer.pk} is adjudicated: reopen it (status in_progress) before changing it"
        )
    return quoted


@transaction.atomic
def mention_update(
    *,
    mention: Mention,
    label: str | None = None,
    start: int | None = None,
    end: int | None = None,
    text: str | None = None,
    actor: Actor | Unchanged | None = UNCHANGED,
    expected_version: int | None = None,
) -> Mention:
    """Change a mention's label, span or actor link; arguments that it fills are re-checked."""
    layer = mention.layer
    new_label = mention.label if label is None else label
    new_start = mention.start if start is None else start
    new_end = mention.end if end is None else end
    quoted = check_mention_update(mention=mention, label=new_label, start=new_start, end=new_end, text=text)
    before = mention_snapshot(mention)
    layer_touch(layer=layer, expected_version=expected_version)
    mention.label, mention.start, mention.end, mention.text = new_label, new_start, new_end, quoted
    if actor is not UNCHANGED:
        mention.actor = actor
    try:
        with transaction.atomic():
            mention.save()
    except IntegrityError as exc:
        raise InvalidAnnotation("start", f"a {new_label} mention on [{new_start}, {new_end}) already exists") from exc
    return logged(layer, "mention", "update", mention, before=before)


@transaction.atomic
def mention_delete(*, mention: Mention, expected_version: int | None = None) -> None:
    """Delete a mention, with the event arguments and stances that point at it (each logged)."""
    layer_touch(layer=mention.layer, expected_version=expected_version)
    log = mention_delete_logger(mention)
    mention.delete()
    log()


def _argument_mentions(layer: Layer, arguments: Iterable[tuple[str, int]]) -> list[tuple[str, Mention]]:
    pairs = list(arguments)
    for pair in pairs:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise InvalidAnnotation("arguments", f"each argument is a (role, mention id) pair, got {pair!r}")
        if not isinstance(pair[1], int) or isinstance(pair[1], bool):
            raise InvalidAnnotation("arguments", f"mention id must be an integer, got {pair[1]!r}")
    ids = {mention_id for _, mention_id in pairs}
    found = Mention.objects.in_bulk(ids)
    resolved: list[tuple[str, Mention]] = []
    for role, mention_id in pairs:
        mention = found.get(mention_id)
        if mention is None or mention.layer_id != layer.pk:
            raise InvalidAnnotation("arguments", f"mention {mention_id} does not exist in this layer")
        resolved.append((role, mention))
    return resolved


@transaction.atomic
def event_create(
    *,
    layer: Layer,
    event_type: str,
    trigger_start: int,
    trigger_end: int,
    trigger_text: str | None = None,
    mode: str = "",
    realis: str = "actual",
    contexts: Sequence[str] = (),
    arguments: Iterable[tuple[str, int]] = (),
    not_stated: Sequence[str] = (),
    score: float | None = None,
    provenance: dict[str, Any] | None = None,
    expected_version: int | None = None,
) -> Event:
    """Add an event with its trigger and (role, mention id) arguments, all checked against the schema.

    `not_stated` lists roles of the type that the text leaves implicit (complete without an argument).
    """
    schema = layer_schema(layer)
    text = layer.article.text
    quoted = validate_span(text, trigger_start, trigger_end, trigger_text, field="trigger", within_paragraph=True)
    resolved = _argument_mentions(layer, arguments)
    validate_event(
        schema,
        event_type=event_type,
        mode=mode,
        realis=realis,
        contexts=contexts,
        arguments=resolved,
        layer_id=layer.pk,
        not_stated=not_stated,
    )
    layer_touch(layer=layer, expected_version=expected_version)
    event = Event.objects.create(
        layer=layer,
        event_type=event_type,
        trigger_start=trigger_start,
        trigger_end=trigger_end,
        trigger_text=quoted,
        mode=mode,
        realis=realis,
        contexts=list(contexts),
        not_stated=list(not_stated),
        score=score,
        provenance=provenance or {},
    )
    EventArgument.objects.bulk_create(
        EventArgument(event=event, role=role, mention=mention) for role, mention in resolved
    )
    return logged(layer, "event", "create", event)


@transaction.atomic
def event_update(
    *,
    event: Event,
    event_type: str | None = None,
    mode: str | None = None,
    realis: str | None = None,
    contexts: Sequence[str] | None = None,
    arguments: Iterable[tuple[str, int]] | None = None,
    not_stated: Sequence[str] | None = None,
    expected_version: int | None = None,
) -> Event:
    """Change an event's type, attributes or (when given) replace its arguments or its `not_stated` roles.

    Without `not_stated`, the stored list keeps the roles still unfilled in the (new) type: a role
    given an argument is stated now.
    """
    layer = event.layer
    schema = layer_schema(layer)
    if arguments is None:
        resolved = [(a.role, a.mention) for a in event.arguments.select_related("mention")]
    else:
        resolved = _argument_mentions(layer, arguments)
    new_type = event.event_type if event_type is None else event_type
    new_mode = event.mode if mode is None else mode
    if event_type is not None and event_type != event.event_type and mode is None:
        new_mode = ""  # modes belong to a type; a type change drops the old mode
    new_realis = event.realis if realis is None else realis
    # Validated as given: list() would turn a string "military" into its letters first.
    new_contexts = event.contexts if contexts is None else contexts
    if not_stated is None:
        spec = schema.event_types.get(new_type) if isinstance(new_type, str) else None
        filled = {role for role, _ in resolved}
        new_not_stated: Sequence[str] = [
            role for role in event.not_stated if spec is not None and role in spec.roles and role not in filled
        ]
    else:
        new_not_stated = not_stated
    validate_event(
        schema,
        event_type=new_type,
        mode=new_mode,
        realis=new_realis,
        contexts=new_contexts,
        arguments=resolved,
        layer_id=layer.pk,
        not_stated=new_not_stated,
    )
    before = event_snapshot(event)
    layer_touch(layer=layer, expected_version=expected_version)
    event.event_type, event.mode, event.realis, event.contexts = new_type, new_mode, new_realis, list(new_contexts)
    event.not_stated = list(new_not_stated)
    event.save()
    if arguments is not None:
        event.arguments.all().delete()
        EventArgument.objects.bulk_create(
            EventArgument(event=event, role=role, mention=mention) for role, mention in resolved
        )
    return logged(layer, "event", "update", event, before=before)


@transaction.atomic
def event_delete(*, event: Event, expected_version: int | None = None) -> None:
    layer_touch(layer=event.layer, expected_version=expected_version)
    before = event_snapshot(event)
    event.delete()
    logged(event.layer, "event", "delete", before=before)


@transaction.atomic
def stance_create(
    *,
    layer: Layer,
    label: str,
    holder_id: int | None = None,
    target_id: int | None = None,
    target_actor: Actor | None = None,
    scope: str = Stance.Scope.SENTENCE,
    evidence_start: int | None = None,
    evidence_end: int | None = None,
    evidence_text: str | None = None,
    score: float | None = None,
    provenance: dict[str, Any] | None = None,
    expected_version: int | None = None,
) -> Stance:
    """Add a stance; no holder means the article's author holds it. A target mention or actor is required."""
    schema = layer_schema(layer)
    validate_stance_label(schema, label)
    if scope not in Stance.Scope.values:
        raise InvalidAnnotation("scope", f"unknown scope {scope!r}; allowed: {', '.join(Stance.Scope.values)}")
    for field, mention_id in (("holder", holder_id), ("target", target_id)):
        if mention_id is not None and (not isinstance(mention_id, int) or isinstance(mention_id, bool)):
            raise InvalidAnnotation(field, f"mention id must be an integer, got {mention_id!r}")
    mentions = Mention.objects.in_bulk([i for i in (holder_id, target_id) if i is not None])
    for field, mention_id in (("holder", holder_id), ("target", target_id)):
        if mention_id is not None and (mention_id not in mentions or mentions[mention_id].layer_id != layer.pk):
            raise InvalidAnnotation(field, f"mention {mention_id} does not exist in this layer")
    if target_id is None and target_actor is None:
        raise InvalidAnnotation("target", "a stance needs a target mention or a target actor")
    quoted = ""
    if evidence_start is not None or evidence_end is not None:
        quoted = validate_span(layer.article.text, evidence_start, evidence_end, evidence_text, field="evidence")
    layer_touch(layer=layer, expected_version=expected_version)
    stance = Stance.objects.create(
        layer=layer,
        label=label,
        holder_id=holder_id,
        target_id=target_id,
        target_actor=target_actor,
        scope=scope,
        evidence_start=evidence_start,
        evidence_end=evidence_end,
        evidence_text=quoted,
        score=score,
        provenance=provenance or {},
    )
    return logged(layer, "stance", "create", stance)


@transaction.atomic
def stance_delete(*, stance: Stance, expected_version: int | None = None) -> None:
    layer_touch(layer=stance.layer, expected_version=expected_version)
    before = stance_snapshot(stance)
    stance.delete()
    logged(stance.layer, "stance", "delete", before=before)


@transaction.atomic
def stance_update(
    *,
    stance: Stance,
    label: str | None = None,
    holder_id: int | Unchanged | None = UNCHANGED,
    target_id: int | Unchanged | None = UNCHANGED,
    target_actor: Actor | Unchanged | None = UNCHANGED,
    scope: str | None = None,
    evidence_start: int | Unchanged | None = UNCHANGED,
    evidence_end: int | Unchanged | None = UNCHANGED,
    evidence_text: str | None = None,
    expected_version: int | None = None,
) -> Stance:
    """Change a stance; what is not given stays. The same checks as `stance_create`."""
    layer = stance.layer
    schema = LabelSchema(layer.article.project.label_schema)
    new_label = stance.label if label is None else label
    validate_stance_label(schema, new_label)
    new_scope = stance.scope if scope is None else scope
    if new_scope not in Stance.Scope.values:
        raise InvalidAnnotation("scope", f"unknown scope {new_scope!r}; allowed: {', '.join(Stance.Scope.values)}")
    new_holder = stance.holder_id if holder_id is UNCHANGED else holder_id
    new_target = stance.target_id if target_id is UNCHANGED else target_id
    new_actor = stance.target_actor if target_actor is UNCHANGED else target_actor
    for name, mention_id in (("holder", new_holder), ("target", new_target)):
        if mention_id is not None and (not isinstance(mention_id, int) or isinstance(mention_id, bool)):
            raise InvalidAnnotation(name, f"mention id must be an integer, got {mention_id!r}")
    mentions = Mention.objects.in_bulk([i for i in (new_holder, new_target) if i is not None])
    for name, mention_id in (("holder", new_holder), ("target", new_target)):
        if mention_id is not None and (mention_id not in mentions or mentions[mention_id].layer_id != layer.pk):
            raise InvalidAnnotation(name, f"mention {mention_id} does not exist in this layer")
    if new_target is None and new_actor is None:
        raise InvalidAnnotation("target", "a stance needs a target mention or a target actor")
    start = stance.evidence_start if evidence_start is UNCHANGED else evidence_start
    end = stance.evidence_end if evidence_end is UNCHANGED else evidence_end
    quoted = ""
    if start is not None or end is not None:
        quoted = validate_span(layer.article.text, start, end, evidence_text, field="evidence")
    before = stance_snapshot(stance)
    layer_touch(layer=layer, expected_version=expected_version)
    stance.label, stance.scope = new_label, new_scope
    stance.holder_id, stance.target_id, stance.target_actor = new_holder, new_target, new_actor
    stance.evidence_start, stance.evidence_end, stance.evidence_text = start, end, quoted
    stance.save()
    return logged(layer, "stance", "update", stance, before=before)
