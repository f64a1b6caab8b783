"""Gold services: open an article's gold layer, pick annotators' items into it, merge by agreement.

See `annotations.review` for the groups and provenance. Every write names the gold layer version
it read: two reviewers settling the same article can't both win; the second gets VersionConflict
(409) and nothing of the first is lost.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from annotations.errors import InvalidAnnotation, with_article
from annotations.exports.selection import latest_model_version
from annotations.models import Article, Change, Event, Layer, Mention, Project, Stance
from annotations.review import (
    KINDS,
    MERGE_STRATEGIES,
    Group,
    Key,
    Strategy,
    agreement_of,
    groups_of,
    provenance,
)
from annotations.schema import LabelSchema
from annotations.selectors import (
    compared_layers,
    with_copied_rows,
    with_items,
)
from annotations.services.changes import changes_via
from annotations.services.copying import ItemCopier, ProvenanceOf
from annotations.services.layers import layer_gold, layer_touch
from annotations.validation import missing_roles, validate_event_complete


def gold_open(*, article: Article, reviewer: AbstractBaseUser | None = None) -> Layer:
    """The article's gold layer; created when missing, then pre-filled by the project's merge strategy."""
    existing = Layer.objects.filter(article=article, kind=Layer.Kind.GOLD).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            gold = Layer.objects.create(article=article, kind=Layer.Kind.GOLD)
            strategy = article.project.merge_strategy
            if strategy != Strategy.NONE:
                gold_merge(gold=gold, strategy=strategy, reviewer=reviewer, expected_version=None)
    except IntegrityError:  # another reviewer opened it at the same moment: theirs it is
        return Layer.objects.get(article=article, kind=Layer.Kind.GOLD)
    gold.refresh_from_db()
    return gold


@dataclass
class PickResult:
    layer_version: int
    created: list[tuple[str, int]] = field(default_factory=list)
    existing: list[tuple[str, int]] = field(default_factory=list)

    def count(self, kind: str) -> int:
        return sum(1 for k, _ in self.created if k == kind)


def _provenance_of(
    strategy: str, reviewer: AbstractBaseUser | None, annotators_of: dict[Key, list[str]]
) -> ProvenanceOf:
    at = timezone.now().isoformat()  # one time for the whole pick or merge
    return lambda key: provenance(strategy, reviewer=reviewer, annotators=annotators_of.get(key, ()), at=at)


def _check_gold(gold: Layer) -> None:
    if gold.kind != Layer.Kind.GOLD:
        raise InvalidAnnotation("layer", f"items are picked into a gold layer; this is {with_article(gold.kind)} layer")


def _annotators_of(groups: dict[str, list[Group]]) -> dict[Key, list[str]]:
    return {g.key: g.annotators for kind in KINDS for g in groups[kind]}


MODELS = {"mention": Mention, "event": Event, "stance": Stance}


def _annotator_items(gold: Layer, items: Sequence[tuple[str, int]]) -> list[tuple[str, Any]]:
    """The named items of the annotator layers of gold's article, in the order given; one query a kind."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for kind, item_id in items:
        if kind in MODELS:
            wanted[kind].add(item_id)
    found: dict[tuple[str, int], Any] = {}
    for kind, ids in wanted.items():
        query = MODELS[kind].objects.filter(  # type: ignore[attr-defined]
            pk__in=ids, layer__article_id=gold.article_id, layer__kind=Layer.Kind.ANNOTATOR
        )
        found.update({(kind, item.pk): item for item in with_copied_rows(kind, query)})
    sources: list[tuple[str, Any]] = []
    for index, (kind, item_id) in enumerate(items):
        if kind not in MODELS:
            raise InvalidAnnotation("items", f"item {index}: unknown kind {kind!r}; use {', '.join(KINDS)}")
        source = found.get((kind, item_id))
        if source is None:
            raise InvalidAnnotation(
                "items", f"item {index}: no {kind} {item_id} in an annotator layer of article {gold.article_id}"
            )
        sources.append((kind, source))
    return sources


def _result(gold: Layer, copier: ItemCopier | None) -> PickResult:
    gold.refresh_from_db(fields=["version", "status", "updated_at"])
    if copier is None:
        return PickResult(layer_version=gold.version)
    return PickResult(layer_version=gold.version, created=copier.created, existing=copier.existing)


@transaction.atomic
def gold_pick(
    *,
    gold: Layer,
    items: Sequence[tuple[str, int]],
    reviewer: AbstractBaseUser | None,
    expected_version: int | None,
) -> PickResult:
    """Copy annotator items (kind, id) of the gold layer's article into it, with their provenance."""
    _check_gold(gold)
    if not items:
        raise InvalidAnnotation("items", "name at least one item to pick")
    sources = _annotator_items(gold, items)
    # The version check comes first and locks the gold row until the transaction ends.
    layer_touch(layer=gold, expected_version=expected_version)
    annotators_of = _annotators_of(groups_of(compared_layers(gold.article)))
    copier = ItemCopier(gold, provenance=_provenance_of(Strategy.PICKED, reviewer, annotators_of))
    with changes_via(Change.Path.REVIEW, user=reviewer):
        for kind, source in sources:
            copier.copy(kind, source)
    return _result(gold, copier)


@transaction.atomic
def gold_merge(
    *,
    gold: Layer,
    strategy: str,
    reviewer: AbstractBaseUser | None,
    expected_version: int | None,
) -> PickResult:
    """Pre-fill gold with every unanimous (or, for majority, majority) group not in it yet."""
    _check_gold(gold)
    if strategy not in MERGE_STRATEGIES:
        raise InvalidAnnotation("strategy", f"unknown strategy {strategy!r}; allowed: {', '.join(MERGE_STRATEGIES)}")
    layer_touch(layer=gold, expected_version=expected_version)
    if strategy == Strategy.NONE:
        return _result(gold, None)
    layers = compared_layers(gold.article)
    groups = groups_of(layers)
    wanted = (Strategy.UNANIMOUS,) if strategy == Strategy.UNANIMOUS else (Strategy.UNANIMOUS, Strategy.MAJORITY)
    copier = ItemCopier(gold, provenance=_provenance_of(strategy, reviewer, _annotators_of(groups)))
    with changes_via(Change.Path.REVIEW, user=reviewer):
        for kind in KINDS:
            for group in groups[kind]:
                if agreement_of(len(group.items), len(layers)) in wanted:
                    copier.copy(kind, group.item)
    return _result(gold, copier)


# --- Bulk: a machine layer promoted to gold (bootstrapping a gold set) ------------------------


@dataclass
class PromoteResult:
    model_version: str
    promoted: list[int] = field(default_factory=list)
    skipped: dict[str, list[int]] = field(default_factory=dict)  # reason → article ids
    counts: Counter[str] = field(default_factory=Counter)  # mentions, events, stances, events_dropped, …

    def as_json(self) -> dict[str, Any]:
        return {
            "model_version": self.model_version,
            "promoted": len(self.promoted),
            "articles": self.promoted,
            "skipped": self.skipped,
            "counts": dict(sorted(self.counts.items())),
        }


def gold_promote(
    *,
    project: Project,
    model_version: str | None = None,
    articles: QuerySet[Article] | None = None,
    not_stated_missing: bool = False,
    by: AbstractBaseUser | None = None,
) -> PromoteResult:
    """Copy a machine layer (`model_version`, default the latest) into the gold layer of each article.

    Events that lack a required role are left out, or with `not_stated_missing` kept with those roles
    marked "not stated in the text"; every copied item records provenance `promoted` with the model
    version. Articles whose gold is adjudicated, or that have no such machine layer, are skipped and
    reported. One transaction per article: a failure leaves the others promoted.
    """
    version = model_version or latest_model_version(project)
    if not version:
        raise InvalidAnnotation("layer", f"project {project.slug!r} has no machine layer to promote")
    if not Layer.objects.filter(article__project=project, kind=Layer.Kind.MACHINE, model_version=version).exists():
        raise InvalidAnnotation("layer", f"no machine layer of model version {version!r} in project {project.slug!r}")
    chosen = (articles if articles is not None else project.articles.all()).filter(project=project).order_by("pk")
    schema = LabelSchema(project.label_schema)
    at = timezone.now().isoformat()
    result = PromoteResult(model_version=version)
    record = provenance(Strategy.PROMOTED, reviewer=by, model_version=version, at=at)
    for article in chosen.only("pk", "project_id"):
        machine = with_items(
            Layer.objects.filter(article=article, kind=Layer.Kind.MACHINE, model_version=version)
        ).first()
        if machine is None:
            result.skipped.setdefault("no machine layer of that version", []).append(article.pk)
            continue
        gold = Layer.objects.filter(article=article, kind=Layer.Kind.GOLD).first()
        if gold is not None and gold.status == Layer.Status.ADJUDICATED:
            result.skipped.setdefault("gold already adjudicated", []).append(article.pk)
            continue
        with transaction.atomic():
            gold = gold or layer_gold(article=article)
            copier = ItemCopier(gold, provenance=lambda key: dict(record))
            for mention in machine.mentions.all():
                copier.copy("mention", mention)
            for event in machine.events.all():
                counts = Counter(argument.role for argument in event.arguments.all())
                missing = validate_event_complete(
                    schema, event_type=event.event_type, role_counts=counts, not_stated=event.not_stated
                )
                roles = [
                    role
                    for role in missing_roles(schema, event_type=event.event_type, role_counts=counts)
                    if role not in event.not_stated
                ]
                # Only missing roles can be marked not stated; a type or role the schema lost can't.
                if missing and not (not_stated_missing and len(roles) == len(missing)):
                    result.counts["events_dropped"] += 1
                    continue
                if missing:
                    event.not_stated = sorted({*event.not_stated, *roles})  # the copy's; the suggestion stays
                    result.counts["roles_marked_not_stated"] += len(roles)
                copier.copy("event", event)
            for stance in machine.stances.all():
                copier.copy("stance", stance)
        for kind, _ in copier.created:
            result.counts[f"{kind}s"] += 1
        result.promoted.append(article.pk)
    return result
