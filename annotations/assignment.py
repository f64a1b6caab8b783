"""Assigning articles to annotators with overlap k, and the annotator's queue.

An assignment is the annotator's layer on the article, created "not started": the layer already
is one per (article, annotator) and carries the status the queue shows, so nothing else has to
be kept in step with it. An annotator who opens an article by hand gets a layer too, and it
counts as an assignment (and as load) from then on.

`articles_assign` gives each article k annotators in total (the layers it already has count),
always to the least-loaded annotators first, so the load stays balanced within one: load is the
number of annotator layers an annotator has in the project.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from annotations.models import Article, Event, Layer, Membership, Mention, Project, Stance


@dataclass
class AssignmentResult:
    project: Project
    overlap: int
    created: int = 0
    already_full: int = 0  # articles that already had k annotators
    short: list[int] = field(default_factory=list)  # article ids that could not reach k
    load: dict[str, int] = field(default_factory=dict)  # username → annotator layers in the project

    def summary(self) -> str:
        parts = [f"{self.created} assignment(s) created in {self.project.slug} with overlap {self.overlap}"]
        if self.already_full:
            parts.append(f"{self.already_full} article(s) already had {self.overlap} annotator(s)")
        if self.short:
            parts.append(f"{len(self.short)} article(s) have fewer than {self.overlap}: not enough annotators")
        if self.load:
            parts.append("load: " + ", ".join(f"{name} {count}" for name, count in sorted(self.load.items())))
        return "; ".join(parts)


def project_annotators(*, project: Project) -> QuerySet[Any]:
    """Active users with the annotator role in the project, in a stable order."""
    return (
        get_user_model()
        .objects.filter(memberships__project=project, memberships__role=Membership.Role.ANNOTATOR, is_active=True)
        .order_by("username", "pk")
    )


@transaction.atomic
def articles_assign(
    *,
    project: Project,
    articles: Iterable[Article] | None = None,
    overlap: int | None = None,
    annotators: Sequence[AbstractBaseUser] | None = None,
) -> AssignmentResult:
    """Give each article `overlap` annotators (default: the project's k), least-loaded first.

    `articles` default to every article of the project; `annotators` to the project's annotators
    (each must have the annotator role there). Re-running adds only what is missing.
    """
    k = project.overlap if overlap is None else overlap
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise ValidationError({"overlap": [f"must be a whole number of at least 1, got {k!r}"]})
    pool = list(project_annotators(project=project))
    if annotators is not None:
        members = {user.pk for user in pool}
        outsiders = [str(user) for user in annotators if user.pk not in members]
        if outsiders:
            raise ValidationError({"annotators": [f"not annotators of {project.slug}: {', '.join(sorted(outsiders))}"]})
        chosen = {user.pk for user in annotators}
        pool = [user for user in pool if user.pk in chosen]
    if not pool:
        raise ValidationError({"annotators": [f"project {project.slug} has no annotators to assign to"]})
    if k > len(pool):
        raise ValidationError(
            {"overlap": [f"overlap {k} needs at least {k} annotators; {project.slug} has {len(pool)}"]}
        )

    article_list = (
        list(Article.objects.filter(project=project).only("pk").order_by("pk"))
        if articles is None
        else sorted(articles, key=lambda a: a.pk)
    )
    foreign = [a.pk for a in article_list if a.project_id != project.pk]
    if foreign:
        raise ValidationError({"articles": [f"articles {foreign} are not in project {project.slug}"]})

    # Lock the annotators' layers of the project so two assignment runs can't both pick the same
    # least-loaded annotator for an article (the unique constraint would then fail).
    existing = list(
        Layer.objects.select_for_update()
        .filter(article__project=project, kind=Layer.Kind.ANNOTATOR)
        .values_list("article_id", "annotator_id")
    )
    load = {user.pk: 0 for user in pool}
    on_article: dict[int, set[int]] = {}
    for article_id, annotator_id in existing:
        on_article.setdefault(article_id, set()).add(annotator_id)
        if annotator_id in load:
            load[annotator_id] += 1

    order = {user.pk: index for index, user in enumerate(pool)}
    result = AssignmentResult(project=project, overlap=k)
    new_layers: list[Layer] = []
    for article in article_list:
        have = on_article.setdefault(article.pk, set())
        missing = k - len(have)
        if missing <= 0:
            result.already_full += 1
            continue
        candidates = sorted((pk for pk in load if pk not in have), key=lambda pk: (load[pk], order[pk]))
        picked = candidates[:missing]
        if len(picked) < missing:
            result.short.append(article.pk)
        for annotator_id in picked:
            new_layers.append(Layer(article_id=article.pk, kind=Layer.Kind.ANNOTATOR, annotator_id=annotator_id))
            have.add(annotator_id)
            load[annotator_id] += 1
    Layer.objects.bulk_create(new_layers)
    result.created = len(new_layers)
    result.load = {user.get_username(): load[user.pk] for user in pool}
    return result


# --- The annotator's queue -------------------------------------------------------------------


def _count(model: type[Any]) -> Coalesce:
    counted = model.objects.filter(layer=OuterRef("pk")).order_by().values("layer").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def annotator_queue(*, user: AbstractBaseUser, project: Project | None = None) -> QuerySet[Layer]:
    """The user's own layers (their assignments) in projects they annotate in, with counts.

    Ordered by project and article, which is also the order of next / previous on the annotate
    page. Only projects where the user still has a role that annotates are listed.
    """
    roles = (Membership.Role.ANNOTATOR, Membership.Role.MANAGER, Membership.Role.REVIEWER)
    layers = Layer.objects.filter(kind=Layer.Kind.ANNOTATOR, annotator=user)
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
        .annotate(mention_count=_count(Mention), event_count=_count(Event), stance_count=_count(Stance))
        .order_by("article__project__slug", "article_id")
    )


def queue_neighbours(*, layer: Layer) -> tuple[Layer | None, Layer | None]:
    """The previous and next layer of the same annotator in the same project (queue order)."""
    own = Layer.objects.filter(
        kind=Layer.Kind.ANNOTATOR, annotator_id=layer.annotator_id, article__project_id=layer.article.project_id
    ).only("pk", "article_id", "status")
    previous = own.filter(article_id__lt=layer.article_id).order_by("-article_id").first()
    following = own.filter(article_id__gt=layer.article_id).order_by("article_id").first()
    return previous, following
