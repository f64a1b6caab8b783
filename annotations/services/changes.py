"""The change log: every write to a layer's mentions, events (with arguments), stances and status
is recorded as a `Change` (append-only), in the same transaction as the write.

Which door a write came through (`Change.Path`) and who made it come from a context the front
doors set: a middleware for `/api/` and `/admin/` requests (the user is read from the request when
the change is recorded, after DRF has authenticated it), `changes_via("import")` around the
annotated import, `changes_via("review")` around gold picks and merges. Without one the path is
`other` (a command, the shell).

Machine layers written in bulk by pre-annotation are not logged item by item: they are replaced
whole per model version, and re-running the model reproduces them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import orjson
from django.db.models import Q

from annotations.models import Change, Event, EventArgument, Layer, Mention, Project, Stance


@dataclass(frozen=True)
class ChangeContext:
    path: str
    user: Any = None  # a user, or None to read it from `request` when a change is recorded
    request: Any = None
    undoes: Change | None = None  # the change being undone by the writes inside


Item = TypeVar("Item", Mention, Event, Stance)

_context: ContextVar[ChangeContext | None] = ContextVar("change_context", default=None)


@contextmanager
def changes_via(path: str, *, user: Any = None, request: Any = None, undoes: Change | None = None) -> Iterator[None]:
    """Record the changes made inside as coming through `path` (a `Change.Path`), by `user` (else
    the user of the enclosing context or of `request`), undoing `undoes` when given."""
    outer = _context.get()
    if user is None and request is None and outer is not None:
        user, request = outer.user, outer.request
    token = _context.set(ChangeContext(path=path, user=user, request=request, undoes=undoes))
    try:
        yield
    finally:
        _context.reset(token)


def _who(context: ChangeContext | None, user: Any) -> Any:
    if user is None and context is not None:
        user = context.user
        if user is None and context.request is not None:
            user = getattr(context.request, "user", None)
    return user if user is not None and getattr(user, "is_authenticated", False) else None


def mention_snapshot(mention: Mention) -> dict[str, Any]:
    return {
        "id": mention.pk,
        "label": mention.label,
        "start": mention.start,
        "end": mention.end,
        "text": mention.text,
        "actor": mention.actor_id,
        "score": mention.score,
        "provenance": mention.provenance,
    }


def event_snapshot(event: Event) -> dict[str, Any]:
    return {
        "id": event.pk,
        "event_type": event.event_type,
        "trigger_start": event.trigger_start,
        "trigger_end": event.trigger_end,
        "trigger_text": event.trigger_text,
        "mode": event.mode,
        "realis": event.realis,
        "contexts": list(event.contexts),
        "not_stated": list(event.not_stated),
        "score": event.score,
        "provenance": event.provenance,
        # Read afresh: a prefetched `event.arguments` may predate the write.
        "arguments": sorted(
            [role, mention_id]
            for role, mention_id in EventArgument.objects.filter(event_id=event.pk).values_list("role", "mention_id")
        ),
    }


def stance_snapshot(stance: Stance) -> dict[str, Any]:
    return {
        "id": stance.pk,
        "label": stance.label,
        "holder": stance.holder_id,
        "target": stance.target_id,
        "target_actor": stance.target_actor_id,
        "scope": stance.scope,
        "evidence_start": stance.evidence_start,
        "evidence_end": stance.evidence_end,
        "evidence_text": stance.evidence_text,
        "score": stance.score,
        "provenance": stance.provenance,
    }


def item_snapshot(kind: str, item: Any) -> dict[str, Any]:
    snapshots: dict[str, Callable[[Any], dict[str, Any]]] = {
        "mention": mention_snapshot,
        "event": event_snapshot,
        "stance": stance_snapshot,
    }
    return snapshots[kind](item)


def change_record(
    *,
    layer: Layer,
    item_kind: str,
    action: str,
    item_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    user: Any = None,
    undoes: Change | None = None,
) -> Change:
    """Append one change of `layer` (whose in-memory version is the one after the change)."""
    context = _context.get()
    return Change.objects.create(
        layer_id=layer.pk,
        article_id=layer.article_id,
        user=_who(context, user),
        item_kind=item_kind,
        item_id=item_id,
        action=action,
        before=before,
        after=after,
        layer_version=layer.version,
        path=context.path if context is not None else Change.Path.OTHER,
        undoes=undoes if undoes is not None or context is None else context.undoes,
    )


def changes_path() -> str:
    """The path the changes made now are recorded under."""
    context = _context.get()
    return context.path if context is not None else Change.Path.OTHER


def logged(
    layer: Layer, kind: str, action: str, item: Item | None = None, *, before: dict[str, Any] | None = None
) -> Any:
    """Record a create or update of `item` (its snapshot after the write), or a delete (`before`
    holds the item's id); returns the item, for `return logged(...)`."""
    after = item_snapshot(kind, item) if item is not None else None
    item_id = item.pk if item is not None else (before or {}).get("id")
    change_record(layer=layer, item_kind=kind, action=action, item_id=item_id, before=before, after=after)
    return item


def mention_delete_logger(mention: Mention) -> Callable[[], None]:
    """Called before a mention is deleted: what the delete takes with it (event arguments, stances
    that point at it) as it is now; the function returned records all of it once deleted."""
    layer = mention.layer
    events = [(event, event_snapshot(event)) for event in Event.objects.filter(arguments__mention=mention).distinct()]
    stances = [stance_snapshot(s) for s in Stance.objects.filter(Q(holder=mention) | Q(target=mention)).distinct()]
    before = mention_snapshot(mention)

    def record() -> None:
        for event, event_before in events:
            logged(layer, "event", "update", event, before=event_before)
        for stance_before in stances:
            logged(layer, "stance", "delete", before=stance_before)
        logged(layer, "mention", "delete", before=before)

    return record


def changes_jsonl(*, project: Project, until: datetime) -> Iterator[bytes]:
    """The change log of the project's layers up to `until`, oldest first, one JSON line per change
    (what a dataset version stores next to its export when asked to)."""
    fields = ("id", "created_at", "user__username", "path", "action", "item_kind", "item_id", "layer_id",
              "article_id", "layer_version", "before", "after", "undoes_id")  # fmt: skip
    keys = ("id", "at", "user", "path", "action", "item_kind", "item_id", "layer", "article", "layer_version",
            "before", "after", "undoes")  # fmt: skip
    rows = Change.objects.filter(article__project=project, created_at__lte=until).order_by("id").values_list(*fields)
    for row in rows.iterator(chunk_size=2000):
        yield orjson.dumps(dict(zip(keys, row, strict=True))) + b"\n"
