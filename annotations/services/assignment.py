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

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from annotations.models import Article, Layer, Project
from annotations.selectors import (
    project_annotators,
)


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
