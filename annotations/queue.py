"""The annotator's queue: their assigned layers in queue order, neighbours and progress.

Article order, or "most uncertain first" where the project asks for it (the active model's
smallest decision margin on the article, stored on its newest machine layer).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Case, Count, FloatField, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce

from annotations.models import Event, Layer, Membership, Mention, Project, Stance


def _count(model: type[Any]) -> Coalesce:
    counted = model.objects.filter(layer=OuterRef("pk")).order_by().values("layer").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _newest_margin() -> Subquery:
    newest = Layer.objects.filter(article=OuterRef("article"), kind=Layer.Kind.MACHINE).order_by("-created_at", "-id")
    return Subquery(newest.values("margin")[:1], output_field=FloatField())


# A project ordered "most uncertain first" sorts by the margin of the article's newest machine
# layer (0 = the model could not decide), articles without one after; every other project by article.
QUEUE_ORDER = (
    "article__project__slug",
    Case(
        When(article__project__queue_order=Project.QueueOrder.UNCERTAIN, then=Coalesce("margin_now", Value(2.0))),
        default=Value(0.0),
        output_field=FloatField(),
    ),
    "article_id",
)


def annotator_queue(*, user: AbstractBaseUser, project: Project | None = None) -> QuerySet[Layer]:
    """The user's own layers (their assignments) in projects they annotate in, with counts.

    Ordered by project, then by article, or "most uncertain first" when the project says so
    (`margin_now`: the newest machine layer's decision margin); the same order as next / previous on
    the annotate page. Only projects where the user still has a role that annotates are listed.
    """
    roles = (Membership.Role.ANNOTATOR, Membership.Role.MANAGER, Membership.Role.REVIEWER)
    layers = Layer.objects.filter(kind=Layer.Kind.ANNOTATOR, annotator_id=user.pk)
    if not getattr(user, "is_superuser", False):
        layers = layers.filter(
            Q(article__project__memberships__user=user) & Q(article__project__memberships__role__in=roles)
        )
    if project is not None:
        layers = layers.filter(article__project=project)
    return (
        layers.select_related("article__project")
        .defer(
            "article__text",
            "article__metadata",
            "article__project__label_schema",
            "article__project__guidelines",
            "article__project__description",
        )
        .annotate(
            mention_count=_count(Mention),
            event_count=_count(Event),
            stance_count=_count(Stance),
            margin_now=_newest_margin(),
        )
        .order_by(*QUEUE_ORDER)
    )


def _queue_ids(layer: Layer) -> list[int] | None:
    """The layer ids of the annotator's queue in the layer's project, in queue order, when the
    project orders by uncertainty (None: article order, which the callers read with a range)."""
    if layer.article.project.queue_order != Project.QueueOrder.UNCERTAIN:
        return None
    own = Layer.objects.filter(
        kind=Layer.Kind.ANNOTATOR, annotator_id=layer.annotator_id, article__project_id=layer.article.project_id
    )
    return list(own.annotate(margin_now=_newest_margin()).order_by(*QUEUE_ORDER).values_list("pk", flat=True))


def queue_neighbours(*, layer: Layer) -> tuple[Layer | None, Layer | None]:
    """The previous and next layer of the same annotator in the same project (queue order)."""
    own = Layer.objects.filter(
        kind=Layer.Kind.ANNOTATOR, annotator_id=layer.annotator_id, article__project_id=layer.article.project_id
    ).only("pk", "article_id", "status")
    ids = _queue_ids(layer)
    if ids is not None:
        at = ids.index(layer.pk) if layer.pk in ids else -1
        before = own.filter(pk=ids[at - 1]).first() if at > 0 else None
        after = own.filter(pk=ids[at + 1]).first() if 0 <= at < len(ids) - 1 else None
        return before, after
    previous = own.filter(article_id__lt=layer.article_id).order_by("-article_id").first()
    following = own.filter(article_id__gt=layer.article_id).order_by("article_id").first()
    return previous, following


def queue_progress(*, layer: Layer) -> dict[str, int]:
    """Where the layer stands in its annotator's queue of the project (the queue order of
    `annotator_queue`): `position` (1-based), `queue_size`, and how many of them are `done`."""
    own = Layer.objects.filter(
        kind=Layer.Kind.ANNOTATOR, annotator_id=layer.annotator_id, article__project_id=layer.article.project_id
    )
    ids = _queue_ids(layer)
    before = Q(pk__in=ids[: ids.index(layer.pk) + 1] if layer.pk in ids else []) if ids is not None else None
    counts = own.aggregate(
        position=Count("pk", filter=before if before is not None else Q(article_id__lte=layer.article_id)),
        queue_size=Count("pk"),
        done=Count("pk", filter=Q(status=Layer.Status.DONE)),
    )
    return {"position": counts["position"], "queue_size": counts["queue_size"], "done": counts["done"]}
