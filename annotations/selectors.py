"""Reads that more than one caller needs: article stages, compared and gold layers, an annotator's
queue and its neighbours, the machine layer of a model version, a review's state.

Selectors never write. Services, both front doors (the admin and the API) and the commands use
them.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, TypedDict

from django.contrib.auth import get_user_model
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from annotations.errors import InvalidAnnotation
from annotations.exports.selection import parse_layer_selector, parse_since, selection_resolve
from annotations.models import (
    Article,
    Change,
    Deletion,
    Event,
    EventArgument,
    Layer,
    Membership,
    Mention,
    Project,
    Stance,
)
from annotations.review import COMPARED_STATUSES, KINDS, annotator_name, gold_json, group_json, groups_of


def machine_layer_for(*, article: Article, model_version: str | None = None) -> Layer:
    """The article's machine layer of that model version, or its most recent one."""
    layers = Layer.objects.filter(article=article, kind=Layer.Kind.MACHINE)
    if model_version:
        layer = layers.filter(model_version=model_version).first()
        if layer is None:
            raise InvalidAnnotation("model_version", f"article {article.pk} has no suggestions of {model_version!r}")
        return layer
    layer = layers.order_by("-created_at", "-id").first()
    if layer is None:
        raise InvalidAnnotation("model_version", f"article {article.pk} has no machine suggestions yet")
    return layer


class Stage:
    UNASSIGNED = "unassigned"
    ASSIGNED = "assigned"
    ANNOTATED = "annotated"
    ADJUDICATED = "adjudicated"

    ALL = ("unassigned", "assigned", "annotated", "adjudicated")


def _layer_count(layers: QuerySet[Layer]) -> Coalesce:
    counted = layers.order_by().values("article").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


class StageAnnotations(TypedDict):
    """What `articles_with_stage` annotates on each article."""

    annotators_assigned: int
    annotators_done: int
    stage: str


if TYPE_CHECKING:  # django-stubs-ext is a development tool, and this alias is for the type checker only
    from django_stubs_ext import WithAnnotations

    StagedArticle = WithAnnotations[Article, StageAnnotations]


def articles_with_stage(articles: QuerySet[Article]) -> QuerySet[StagedArticle]:
    """Annotate `annotators_assigned`, `annotators_done` and `stage`, as subqueries (no GROUP BY)."""
    annotator_layers = Layer.objects.filter(article=OuterRef("pk"), kind=Layer.Kind.ANNOTATOR)
    adjudicated = Layer.objects.filter(article=OuterRef("pk"), kind=Layer.Kind.GOLD, status=Layer.Status.ADJUDICATED)
    return articles.annotate(
        annotators_assigned=_layer_count(annotator_layers),
        annotators_done=_layer_count(annotator_layers.filter(status=Layer.Status.DONE)),
    ).annotate(
        stage=Case(
            When(Exists(adjudicated), then=Value(Stage.ADJUDICATED)),
            When(annotators_done__gte=F("project__overlap"), then=Value(Stage.ANNOTATED)),
            When(annotators_assigned__gt=0, then=Value(Stage.ASSIGNED)),
            default=Value(Stage.UNASSIGNED),
        )
    )


def article_stage(article: Article) -> str:
    stages = articles_with_stage(Article.objects.filter(pk=article.pk))
    return str(stages.values_list("stage", flat=True).get())


def filter_stage(articles: QuerySet[Article], stage: str) -> QuerySet[Article]:
    if stage not in Stage.ALL:
        raise InvalidAnnotation("stage", f"unknown stage {stage!r}; allowed: {', '.join(Stage.ALL)}")
    return articles_with_stage(articles).filter(stage=stage)


def with_items(layers: QuerySet[Layer]) -> QuerySet[Layer]:
    # With what a merge copies (annotations.copying): no query per item it copies.
    return layers.select_related("annotator", "adjudicated_by").prefetch_related(
        Prefetch("mentions", queryset=with_copied_rows("mention", Mention.objects.all())),
        Prefetch("events", queryset=with_copied_rows("event", Event.objects.all())),
        Prefetch("stances", queryset=with_copied_rows("stance", Stance.objects.all())),
    )


def compared_layers(article: Article) -> list[Layer]:
    """The annotator layers of the article that are compared (in progress or done), by username."""
    layers = with_items(
        Layer.objects.filter(article=article, kind=Layer.Kind.ANNOTATOR, status__in=list(COMPARED_STATUSES))
    )
    return sorted(layers, key=annotator_name)


def gold_layer(article: Article) -> Layer | None:
    return with_items(Layer.objects.filter(article=article, kind=Layer.Kind.GOLD)).first()


def review_of(article: Article) -> dict[str, Any]:
    """Everything a reviewer compares on one article (see the module docstring)."""
    layers = compared_layers(article)
    gold = gold_layer(article)
    groups = groups_of(layers, gold)
    of = len(layers)
    return {
        "article": {"id": article.pk, "title": article.title},
        "stage": article_stage(article),
        "overlap": article.project.overlap,
        "annotators": [
            {
                "username": annotator_name(layer),
                "layer": layer.pk,
                "status": layer.status,
                "version": layer.version,
            }
            for layer in layers
        ],
        "gold": gold_json(gold),
        "groups": {f"{kind}s": [group_json(g, of) for g in groups[kind]] for kind in KINDS},
        "summary": {
            f"{kind}s": {
                "groups": len(groups[kind]),
                "disputed": sum(1 for g in groups[kind] if g.disagreements),
                "in_gold": sum(1 for g in groups[kind] if g.gold is not None),
            }
            for kind in KINDS
        },
    }


def with_copied_rows(kind: str, items: QuerySet[Any]) -> QuerySet[Any]:
    """The items with the related rows a key and a copy read: no query per item or argument.

    An event's arguments come by role, then in text order (the order a copy writes them in).
    """
    if kind == "mention":
        return items.select_related("actor")
    if kind == "event":
        arguments = EventArgument.objects.select_related("mention__actor").order_by("role", "mention__start", "id")
        return items.prefetch_related(Prefetch("arguments", queryset=arguments))
    return items.select_related("holder__actor", "target__actor", "target_actor")


def project_annotators(*, project: Project) -> QuerySet[Any]:
    """Active users with the annotator role in the project, in a stable order."""
    return (
        get_user_model()
        .objects.filter(memberships__project=project, memberships__role=Membership.Role.ANNOTATOR, is_active=True)
        .order_by("username", "pk")
    )


def layer_history(*, layer: Layer, limit: int) -> list[Change]:
    """The layer's newest `limit` changes, newest first, each with its user and the change that
    undid it (`undone_by_id`, or None)."""
    undone_by = Change.objects.filter(undoes=OuterRef("pk")).order_by("pk").values("pk")[:1]
    changes = Change.objects.filter(layer=layer).select_related("user").annotate(undone_by_id=Subquery(undone_by))
    return list(changes.order_by("-id")[:limit])


# --- A layer with its items, as both front doors show it -------------------------------------


def _iso(value: datetime | None) -> str | None:
    """A time as the API writes it: ISO 8601 in the current time zone, UTC as `Z`."""
    if value is None:
        return None
    text = timezone.localtime(value).isoformat() if timezone.is_aware(value) else value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def layer_with_items(layer_id: int) -> Layer:
    """A layer with its mentions, events (+ arguments) and stances loaded in one query each."""
    return (
        Layer.objects.select_related("annotator", "adjudicated_by")
        .prefetch_related("mentions__actor", "mentions__date", "events__arguments", "stances__target_actor")
        .get(pk=layer_id)
    )


def layer_json(layer: Layer) -> dict[str, Any]:
    """A layer's own fields (`api.serializers.LayerOutput` documents them)."""
    return {
        "id": layer.pk,
        "article": layer.article_id,
        "kind": layer.kind,
        "annotator": layer.annotator.username if layer.annotator is not None else None,
        "model_version": layer.model_version,
        "status": layer.status,
        "version": layer.version,
        "adjudicated_by": layer.adjudicated_by.username if layer.adjudicated_by is not None else None,
        "adjudicated_at": _iso(layer.adjudicated_at),
        "created_at": _iso(layer.created_at),
        "updated_at": _iso(layer.updated_at),
    }


def _date_value(mention: Mention) -> dict[str, Any] | None:
    found = getattr(mention, "date", None)
    if found is None:
        return None
    return {"value": found.value, "granularity": found.granularity, "flag": found.flag, "manual": found.manual}


def layer_detail(layer: Layer) -> dict[str, Any]:
    """A layer with every item (`layer_with_items` loads what it reads): the API's GET layers/<id>/
    and the workspace pages' state."""
    return {
        **layer_json(layer),
        "mentions": [
            {
                "id": m.pk,
                "label": m.label,
                "start": m.start,
                "end": m.end,
                "text": m.text,
                "actor": m.actor_id,
                "actor_name": m.actor.name if m.actor is not None else None,
                "score": m.score,
                "provenance": m.provenance,
                "created_at": _iso(m.created_at),
                # A DATE mention's normalised value (services.dates), shown and edited next to it.
                **({"date": _date_value(m)} if m.label == "DATE" else {}),
            }
            for m in layer.mentions.all()
        ],
        "events": [
            {
                "id": e.pk,
                "event_type": e.event_type,
                "trigger_start": e.trigger_start,
                "trigger_end": e.trigger_end,
                "trigger_text": e.trigger_text,
                "mode": e.mode,
                "realis": e.realis,
                "contexts": list(e.contexts),
                "score": e.score,
                "arguments": [{"id": a.pk, "role": a.role, "mention": a.mention_id} for a in e.arguments.all()],
                "not_stated": list(e.not_stated),
                "provenance": e.provenance,
                "created_at": _iso(e.created_at),
            }
            for e in layer.events.all()
        ],
        "stances": [
            {
                "id": s.pk,
                "label": s.label,
                "holder": s.holder_id,
                "target": s.target_id,
                "target_actor": s.target_actor_id,
                "target_actor_name": s.target_actor.name if s.target_actor is not None else None,
                "scope": s.scope,
                "evidence_start": s.evidence_start,
                "evidence_end": s.evidence_end,
                "evidence_text": s.evidence_text,
                "score": s.score,
                "provenance": s.provenance,
                "created_at": _iso(s.created_at),
            }
            for s in layer.stances.all()
        ],
    }


def deletions_since(*, project: Project, since: str | datetime | None, layer: str | None = None) -> QuerySet[Deletion]:
    """The project's deleted layers (`Deletion`, oldest first) after `since`, of one layer selector
    when given (`gold`, `annotator:NAME`, `machine:VERSION`); bad options raise ExportOptionError."""
    rows = Deletion.objects.filter(project=project).select_related("annotator")
    moment = parse_since(since)
    if moment is not None:
        rows = rows.filter(at__gt=moment)
    if layer:
        selection = selection_resolve(project=project, layer=parse_layer_selector(layer))
        if selection.empty:
            return rows.none()
        rows = rows.filter(kind=selection.layer.kind)
        if selection.annotator_id is not None:
            rows = rows.filter(annotator_id=selection.annotator_id)
        if selection.model_version:
            rows = rows.filter(model_version=selection.model_version)
    return rows.order_by("at", "id")
