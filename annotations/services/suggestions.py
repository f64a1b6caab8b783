"""Suggestion decisions: accept a machine item into an annotator's or the gold layer, or reject it.

Accepting copies the item through the item services (`annotations.services.copying`), so the schema is
checked; every decision is recorded as a SuggestionDecision (a learning record with a snapshot of
the suggestion). Keyword-only, one transaction each, errors name the field.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.db.models import Model

from annotations.errors import InvalidAnnotation, VersionConflict
from annotations.models import (
    Event,
    Layer,
    Mention,
    Stance,
    SuggestionDecision,
)
from annotations.review import (
    Strategy,
    mention_key,
    provenance,
    stance_key,
)
from annotations.selectors import (
    machine_layer_for,
    with_copied_rows,
)
from annotations.services.copying import ItemCopier, ProvenanceOf
from annotations.services.layers import layer_touch

ItemKind = SuggestionDecision.ItemKind


Decision = SuggestionDecision.Decision


SUGGESTION_MODELS: dict[str, type[Model]] = {
    ItemKind.MENTION: Mention,
    ItemKind.EVENT: Event,
    ItemKind.STANCE: Stance,
}


# The field that `label` means for each kind of suggestion (bulk decisions by label).
LABEL_FIELDS: dict[str, str] = {ItemKind.MENTION: "label", ItemKind.EVENT: "event_type", ItemKind.STANCE: "label"}


@dataclass(frozen=True)
class SuggestionRef:
    kind: str
    id: int


@dataclass
class DecisionResult:
    layer: Layer
    decisions: list[SuggestionDecision] = field(default_factory=list)


def _machine_items(kind: str, article_id: int, model_version: str | None = None) -> Any:
    """The machine items of one kind on an article, with what a snapshot and a copy read."""
    model = SUGGESTION_MODELS[kind]
    items = model.objects.filter(layer__article_id=article_id, layer__kind=Layer.Kind.MACHINE)  # type: ignore[attr-defined]
    if model_version:
        items = items.filter(layer__model_version=model_version)
    return with_copied_rows(kind, items.select_related("layer"))


def _mention_snapshot(mention: Mention | None) -> dict[str, Any] | None:
    if mention is None:
        return None
    return {
        "id": mention.pk,
        "label": mention.label,
        "start": mention.start,
        "end": mention.end,
        "text": mention.text,
        "score": mention.score,
        "actor": mention.actor.name if mention.actor_id and mention.actor else None,
    }


def suggestion_snapshot(kind: str, item: Any) -> dict[str, Any]:
    """What the suggestion was, kept with the decision (a later run may replace the item)."""
    if kind == ItemKind.MENTION:
        return _mention_snapshot(item) or {}
    if kind == ItemKind.EVENT:
        return {
            "event_type": item.event_type,
            "trigger": {"start": item.trigger_start, "end": item.trigger_end, "text": item.trigger_text},
            "mode": item.mode,
            "realis": item.realis,
            "contexts": list(item.contexts),
            "score": item.score,
            "arguments": [{"role": a.role, "mention": _mention_snapshot(a.mention)} for a in item.arguments.all()],
        }
    evidence = None
    if item.evidence_start is not None:
        evidence = {"start": item.evidence_start, "end": item.evidence_end, "text": item.evidence_text}
    return {
        "label": item.label,
        "scope": item.scope,
        "holder": _mention_snapshot(item.holder),
        "target": _mention_snapshot(item.target),
        "target_actor": item.target_actor.name if item.target_actor_id else None,
        "evidence": evidence,
        "score": item.score,
    }


def suggestion_label(kind: str, item: Any) -> str:
    return str(getattr(item, LABEL_FIELDS[kind]))


def _check_version(layer: Layer, expected_version: int) -> None:
    current = Layer.objects.filter(pk=layer.pk).values_list("version", flat=True).get()
    if current != expected_version:
        raise VersionConflict(layer_id=layer.pk, expected=expected_version, current=current)


def _accepted_provenance(layer: Layer, user: AbstractBaseUser, items: Sequence[tuple[str, Any]]) -> ProvenanceOf | None:
    """Gold items made from suggestions record who accepted them, from which model version, and when.

    Every item of one decision (with the mentions copied along with an event or a stance) shares
    the record; a decision over suggestions of several model versions names them all.
    """
    if layer.kind != Layer.Kind.GOLD:
        return None
    record = provenance(
        Strategy.ACCEPTED,
        reviewer=user,
        model_version=", ".join(sorted({item.layer.model_version for _, item in items})),
    )
    return lambda key: record


@transaction.atomic
def _decide(
    *,
    layer: Layer,
    user: AbstractBaseUser,
    decision: str,
    items: Sequence[tuple[str, Any]],
    expected_version: int,
) -> DecisionResult:
    if layer.kind == Layer.Kind.MACHINE:
        raise InvalidAnnotation(
            "layer", "suggestions are accepted into an annotator or gold layer, not a machine layer"
        )
    if decision not in Decision.values or decision == Decision.CORRECT:
        raise InvalidAnnotation("decision", f"unknown decision {decision!r}; use accept or reject")
    if not items:
        _check_version(layer, expected_version)  # nothing to decide: the version stays
        return DecisionResult(layer=layer)
    layer_touch(layer=layer, expected_version=expected_version)
    # A machine layer holds a stance per evidence sentence: each accepted one keeps its own.
    copier = (
        ItemCopier(layer, provenance=_accepted_provenance(layer, user, items), stance_evidence=True)
        if decision == Decision.ACCEPT
        else None
    )
    rows = [
        SuggestionDecision(
            layer=layer,
            user_id=user.pk,
            item_kind=kind,
            decision=decision,
            model_version=item.layer.model_version,
            suggestion_id=item.pk,
            label=suggestion_label(kind, item),
            suggestion=suggestion_snapshot(kind, item),
            result_id=copier.copy(kind, item) if copier is not None else None,
        )
        for kind, item in items
    ]
    SuggestionDecision.objects.bulk_create(rows)
    layer.refresh_from_db(fields=["version", "status", "updated_at"])
    return DecisionResult(layer=layer, decisions=rows)


def suggestions_decide(
    *,
    layer: Layer,
    user: AbstractBaseUser,
    decision: str,
    items: Sequence[SuggestionRef],
    model_version: str | None = None,
    expected_version: int,
) -> DecisionResult:
    """Accept or reject these machine items of the layer's article (in the order given)."""
    if not items:
        raise InvalidAnnotation("items", "name at least one suggestion")
    found: dict[tuple[str, int], Any] = {}
    for kind in {ref.kind for ref in items}:
        if kind not in SUGGESTION_MODELS:
            raise InvalidAnnotation("kind", f"unknown suggestion kind {kind!r}; use mention, event or stance")
        wanted = {ref.id for ref in items if ref.kind == kind}
        for item in _machine_items(kind, layer.article_id, model_version).filter(pk__in=wanted):
            found[(kind, item.pk)] = item
    resolved: dict[tuple[str, int], tuple[str, Any]] = {}  # in the order given, each item once
    for index, ref in enumerate(items):
        item = found.get((ref.kind, ref.id))
        if item is None:
            where = f" from model version {model_version!r}" if model_version else ""
            raise InvalidAnnotation(
                f"items[{index}].id", f"no machine {ref.kind} {ref.id}{where} on article {layer.article_id}"
            )
        resolved.setdefault((ref.kind, ref.id), (ref.kind, item))
    return _decide(
        layer=layer, user=user, decision=decision, items=list(resolved.values()), expected_version=expected_version
    )


def suggestions_bulk_decide(
    *,
    layer: Layer,
    user: AbstractBaseUser,
    decision: str,
    kind: str | None = None,
    label: str | None = None,
    model_version: str | None = None,
    expected_version: int,
) -> DecisionResult:
    """Accept or reject every undecided suggestion of one machine layer: of a kind, of a label, or all.

    Mentions come first, so an accepted event or stance reuses the mentions accepted with it.
    Suggestions this layer already decided on (same model version) are left alone.
    """
    if kind is not None and kind not in SUGGESTION_MODELS:
        raise InvalidAnnotation("kind", f"unknown suggestion kind {kind!r}; use mention, event or stance")
    if label is not None and kind is None:
        raise InvalidAnnotation("kind", "a bulk decision by label needs the kind (mention, event or stance)")
    machine = machine_layer_for(article=layer.article, model_version=model_version)
    decided = set(
        SuggestionDecision.objects.filter(layer=layer, model_version=machine.model_version).values_list(
            "item_kind", "suggestion_id"
        )
    )
    items: list[tuple[str, Any]] = []
    for item_kind in [kind] if kind else list(SUGGESTION_MODELS):
        candidates = _machine_items(item_kind, layer.article_id).filter(layer=machine)
        if label is not None:
            candidates = candidates.filter(**{LABEL_FIELDS[item_kind]: label})
        items += [(item_kind, item) for item in candidates if (item_kind, item.pk) not in decided]
    return _decide(layer=layer, user=user, decision=decision, items=items, expected_version=expected_version)


def _settle_key(kind: str, item: Any) -> tuple[Any, ...]:
    """What makes a hand-made item the same as a suggestion: a mention's span and label, an
    event's type and trigger span (its arguments may differ: that is the correction), a stance's
    holder, target and label."""
    if kind == ItemKind.MENTION:
        return mention_key(item)
    if kind == ItemKind.EVENT:
        return ("event", item.event_type, item.trigger_start, item.trigger_end)
    return stance_key(item)


@transaction.atomic
def suggestion_settle_matching(
    *, layer: Layer, user: AbstractBaseUser | AnonymousUser, item: Mention | Event | Stance
) -> SuggestionDecision | None:
    """Record an item made by hand in an annotator or gold layer as the correction of the matching
    undecided suggestion of the article's newest machine layer, if there is one.

    Otherwise that suggestion would still be offered beside the hand-made item, and "Accept all"
    would copy it in a second time. At most one suggestion is settled per item; the layer's
    version does not move (the item's own write moved it).
    """
    if layer.kind not in (Layer.Kind.ANNOTATOR, Layer.Kind.GOLD) or not isinstance(user, AbstractBaseUser):
        return None
    kind = next(k for k, model in SUGGESTION_MODELS.items() if isinstance(item, model))
    machines = Layer.objects.filter(article_id=layer.article_id, kind=Layer.Kind.MACHINE)
    machine = machines.order_by("-created_at", "-id").first()  # the newest, as machine_layer_for
    if machine is None:
        return None
    decided = SuggestionDecision.objects.filter(
        layer=layer, model_version=machine.model_version, item_kind=kind
    ).values_list("suggestion_id", flat=True)
    key = _settle_key(kind, item)
    candidates = _machine_items(kind, layer.article_id).filter(layer=machine).exclude(pk__in=decided).order_by("pk")
    match = next((candidate for candidate in candidates if _settle_key(kind, candidate) == key), None)
    if match is None:
        return None
    return SuggestionDecision.objects.create(
        layer=layer,
        user_id=user.pk,
        item_kind=kind,
        decision=Decision.CORRECT,
        model_version=machine.model_version,
        suggestion_id=match.pk,
        label=suggestion_label(kind, match),
        suggestion=suggestion_snapshot(kind, match),
        result_id=item.pk,
    )
