"""Layer services: open an annotator's or the gold layer, bump its version, change its status.

`layer_touch` is the one optimistic-concurrency check: every write to a layer's items goes through
it, so two writers holding the same version can't both win.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Case, F, Q, QuerySet, Value, When
from django.utils import timezone

from annotations.errors import InvalidAnnotation, VersionConflict, with_article
from annotations.models import (
    Article,
    Deletion,
    Layer,
    Project,
)
from annotations.schema import LabelSchema
from annotations.services.changes import change_record
from annotations.services.training import training_maybe_retrain
from annotations.validation import (
    validate_event_complete,
)


def layer_for_annotator(*, article: Article, annotator: AbstractBaseUser) -> Layer:
    layer, _ = Layer.objects.get_or_create(article=article, kind=Layer.Kind.ANNOTATOR, annotator=annotator)
    return layer


def layer_gold(*, article: Article) -> Layer:
    layer, _ = Layer.objects.get_or_create(article=article, kind=Layer.Kind.GOLD)
    return layer


def layer_touch(*, layer: Layer, expected_version: int | None, status_change: bool = False) -> None:
    """Bump the layer version; when the caller names the version it read, it must still be current.

    The conditional UPDATE is atomic in the database, so two writers holding the same version
    can't both succeed: the second gets VersionConflict and its transaction rolls back. An
    adjudicated gold layer is settled: only a status change (reopening it) may touch it.
    """
    # queryset.update() skips auto_now, so updated_at is set here. The not-started → in-progress
    # move is decided by the database row, not by a possibly stale in-memory status.
    updates: dict[str, Any] = {
        "version": F("version") + 1,
        "updated_at": timezone.now(),
        "status": Case(
            When(
                Q(status=Layer.Status.NOT_STARTED) & ~Q(kind=Layer.Kind.MACHINE),
                then=Value(Layer.Status.IN_PROGRESS),
            ),
            default=F("status"),
        ),
    }
    query = Layer.objects.filter(pk=layer.pk)
    if expected_version is not None:
        query = query.filter(version=expected_version)
    if not status_change:
        query = query.exclude(kind=Layer.Kind.GOLD, status=Layer.Status.ADJUDICATED)
    if query.update(**updates) == 0:
        current: dict[str, Any] = dict(Layer.objects.filter(pk=layer.pk).values("version", "status").first() or {})
        if expected_version is None or current.get("version") == expected_version:
            raise InvalidAnnotation(
                "layer", f"gold layer {layer.pk} is adjudicated: reopen it (status in_progress) before changing it"
            )
        raise VersionConflict(layer_id=layer.pk, expected=expected_version, current=current.get("version") or 0)
    layer.refresh_from_db(fields=["version", "status", "updated_at"])


def layer_schema(layer: Layer) -> LabelSchema:
    return LabelSchema(layer.article.project.label_schema)


@transaction.atomic
def layer_set_status(
    *, layer: Layer, status: str, expected_version: int | None = None, by: AbstractBaseUser | None = None
) -> Layer:
    """Mark a layer done (only when every event has its required roles) or reopen it.

    Only a gold layer can be adjudicated, and adjudicating needs the same completeness as done;
    `by` (the reviewer) and the time are kept on the layer, and cleared when it is reopened.
    """
    if status not in Layer.Status.values:
        raise InvalidAnnotation("status", f"unknown status {status!r}; allowed: {', '.join(Layer.Status.values)}")
    if status == Layer.Status.ADJUDICATED and layer.kind != Layer.Kind.GOLD:
        raise InvalidAnnotation(
            "status", f"only a gold layer can be adjudicated; this is {with_article(layer.kind)} layer"
        )
    if status in (Layer.Status.DONE, Layer.Status.ADJUDICATED):
        schema = layer_schema(layer)
        problems: list[str] = []
        for event in layer.events.prefetch_related("arguments"):
            counts = Counter(argument.role for argument in event.arguments.all())
            problems += [
                f"event {event.pk} {event.trigger_text!r}: {p}"
                for p in validate_event_complete(
                    schema, event_type=event.event_type, role_counts=counts, not_stated=event.not_stated
                )
            ]
        if problems:
            raise InvalidAnnotation("status", f"the layer can't be {status} yet: " + "; ".join(problems))
    current = Layer.objects.filter(pk=layer.pk).values_list("version", "status").first()
    if status == Layer.Status.ADJUDICATED and current is not None and current[1] == status:
        # Adjudicated already: the adjudicator and time stay; a stale reader still hears about it.
        if expected_version is not None and expected_version != current[0]:
            raise VersionConflict(layer_id=layer.pk, expected=expected_version, current=current[0])
        layer.refresh_from_db(fields=["version", "status", "adjudicated_by", "adjudicated_at", "updated_at"])
        return layer
    before = current[1] if current is not None else layer.status
    layer_touch(layer=layer, expected_version=expected_version, status_change=True)
    adjudicated = status == Layer.Status.ADJUDICATED
    layer.status = status
    layer.adjudicated_by = by if adjudicated else None  # type: ignore[assignment]
    layer.adjudicated_at = timezone.now() if adjudicated else None
    Layer.objects.filter(pk=layer.pk).update(
        status=status, adjudicated_by=layer.adjudicated_by, adjudicated_at=layer.adjudicated_at
    )
    change_record(
        layer=layer, item_kind="layer", action="status", before={"status": before}, after={"status": status}, user=by
    )
    if adjudicated:  # a project that retrains automatically counts it
        project_id = layer.article.project_id
        transaction.on_commit(lambda: training_maybe_retrain(project=Project.objects.get(pk=project_id)))
    return layer


def deletions_record(*, layers: QuerySet[Layer], what: str) -> int:
    """Record the layers about to be deleted (`Deletion`, append-only) for incremental exports:
    one row per layer, keyed like the export (the article's content hash). Call it in the deleting
    transaction, before the delete."""
    now = timezone.now()
    rows = [
        Deletion(
            project_id=project_id,
            key=key,
            article_id_was=article_id,
            kind=kind,
            annotator_id=annotator_id,
            model_version=model_version,
            what=what,
            at=now,
        )
        for project_id, key, article_id, kind, annotator_id, model_version in layers.values_list(
            "article__project_id", "article__content_hash", "article_id", "kind", "annotator_id", "model_version"
        )
    ]
    Deletion.objects.bulk_create(rows)
    return len(rows)


@transaction.atomic
def layer_delete(*, layer: Layer) -> None:
    """Delete a layer with its mentions, events, stances and the suggestion decisions taken in it
    (recorded as a `Deletion`, so `since=` exports emit a tombstone)."""
    deletions_record(layers=Layer.objects.filter(pk=layer.pk), what="layer")
    layer.delete()
