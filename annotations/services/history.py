"""Undoing one change of a layer (`annotations.models.Change`) through the item services.

A create is undone by deleting the item, a delete by creating it again with the same fields (a new
id), an update by restoring what it was before, a status change by setting the status back. Only
while no newer change touched the same item (or, for a status, the layer's status); the undo is
recorded as changes of its own, each pointing at the change it undid.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction

from annotations.errors import InvalidAnnotation
from annotations.models import Actor, Change, Event, Layer, Mention, Stance
from annotations.services.changes import changes_path, changes_via
from annotations.services.items import (
    event_create,
    event_delete,
    event_update,
    mention_create,
    mention_delete,
    mention_update,
    stance_create,
    stance_delete,
    stance_update,
)
from annotations.services.layers import layer_set_status

MODELS: dict[str, type[Mention | Event | Stance]] = {"mention": Mention, "event": Event, "stance": Stance}


class UndoConflict(Exception):
    """Something newer touched the same item, or the change was undone already. Maps to 409."""

    def __init__(self, change: Change, newer: Change, why: str):
        self.change = change
        self.newer = newer
        super().__init__(f"change {change.pk} can't be undone: {why} (change {newer.pk})")


def _actor(actor_id: int | None) -> Actor | None:
    return Actor.objects.filter(pk=actor_id).first() if actor_id is not None else None


def _item(change: Change, layer: Layer) -> Any:
    item = MODELS[change.item_kind].objects.filter(pk=change.item_id or 0, layer=layer).first()
    if item is None:
        raise InvalidAnnotation("change", f"{change.item_kind} {change.item_id} is no longer in layer {layer.pk}")
    item.layer = layer
    return item


def _recreate(kind: str, layer: Layer, was: dict[str, Any], version: int) -> None:
    common = {"layer": layer, "score": was["score"], "provenance": was["provenance"], "expected_version": version}
    if kind == "mention":
        mention_create(
            label=was["label"],
            start=was["start"],
            end=was["end"],
            text=was["text"],
            actor=_actor(was["actor"]),
            **common,
        )
    elif kind == "event":
        event_create(
            event_type=was["event_type"], trigger_start=was["trigger_start"], trigger_end=was["trigger_end"],
            trigger_text=was["trigger_text"], mode=was["mode"], realis=was["realis"], contexts=was["contexts"],
            arguments=[(role, mention) for role, mention in was["arguments"]], not_stated=was["not_stated"], **common,
        )  # fmt: skip
    else:
        stance_create(
            label=was["label"], holder_id=was["holder"], target_id=was["target"],
            target_actor=_actor(was["target_actor"]), scope=was["scope"], evidence_start=was["evidence_start"],
            evidence_end=was["evidence_end"], evidence_text=was["evidence_text"] or None, **common,
        )  # fmt: skip


def _restore(kind: str, item: Any, was: dict[str, Any], version: int) -> None:
    if kind == "mention":
        mention_update(
            mention=item, label=was["label"], start=was["start"], end=was["end"], actor=_actor(was["actor"]),
            expected_version=version,
        )  # fmt: skip
    elif kind == "event":
        event_update(
            event=item, event_type=was["event_type"], mode=was["mode"], realis=was["realis"],
            contexts=was["contexts"], arguments=[(role, mention) for role, mention in was["arguments"]],
            not_stated=was["not_stated"], expected_version=version,
        )  # fmt: skip
    else:
        stance_update(
            stance=item, label=was["label"], holder_id=was["holder"], target_id=was["target"],
            target_actor=_actor(was["target_actor"]), scope=was["scope"], evidence_start=was["evidence_start"],
            evidence_end=was["evidence_end"], evidence_text=was["evidence_text"] or None, expected_version=version,
        )  # fmt: skip


def check_change_undo(*, change: Change) -> None:
    """What `change_undo` refuses before writing: a change undone already, or one with a newer
    change of the same item (of the layer's status, for a status change)."""
    done = Change.objects.filter(undoes=change).order_by("pk").first()
    if done is not None:
        raise UndoConflict(change, done, "it was undone already")
    newer = Change.objects.filter(layer_id=change.layer_id, item_kind=change.item_kind, pk__gt=change.pk)
    if change.item_kind != Change.ItemKind.LAYER:
        newer = newer.filter(item_id=change.item_id)
    found = newer.order_by("pk").first()
    if found is not None:
        raise UndoConflict(change, found, f"a newer change touched the same {change.item_kind}")


@transaction.atomic
def change_undo(*, change: Change, user: Any, expected_version: int) -> list[Change]:
    """Undo `change`; returns the changes recorded by the undo (its layer's version is the last one's)."""
    layer = Layer.objects.select_for_update().select_related("article__project").get(pk=change.layer_id)
    check_change_undo(change=change)
    kind, action = change.item_kind, change.action
    with changes_via(changes_path(), user=user, undoes=change):
        if action == Change.Action.STATUS:
            layer_set_status(
                layer=layer, status=(change.before or {})["status"], expected_version=expected_version, by=user
            )
        elif action == Change.Action.CREATE:
            deletes: dict[str, Callable[..., None]] = {
                "mention": mention_delete,
                "event": event_delete,
                "stance": stance_delete,
            }
            deletes[kind](**{kind: _item(change, layer), "expected_version": expected_version})
        elif action == Change.Action.DELETE:
            _recreate(kind, layer, change.before or {}, expected_version)
        else:
            _restore(kind, _item(change, layer), change.before or {}, expected_version)
    return list(Change.objects.filter(undoes=change).order_by("pk"))
