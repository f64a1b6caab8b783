"""Review and adjudication: compare the annotators' layers of an article, settle its gold layer.

Groups. The annotators' items on an article are grouped by what they say, so one group is one
version of an item with the annotators who gave it:
- a mention by (start, end, label);
- an event by (type, trigger span, its arguments as (role, span, label) — a multiset);
- a stance by (holder span or the author, target span or actor, label).
A group's `agreement` is unanimous when every compared annotator gave it, majority when more
than half did, else minority. Its `disagreements` say why a reviewer should look at it:
- mentions: `label` (another group has the same span with another label), `boundary` (another
  group has the same label on an overlapping, different span), `missing` (not everyone gave it);
- events: `type` (same trigger, another type), `arguments` (same trigger and type, other
  arguments), `missing`;
- stances: `label` (same holder and target, another label), `missing`.

Compared layers: the annotator layers in progress or done (not-started ones say nothing).

Gold. The gold layer is created when a reviewer first opens the article, pre-filled by the
project's merge strategy (unanimous by default; majority; none). Picking copies an annotator's
item into the gold layer — an event with its argument mentions, a stance with its holder and
target mentions, reusing gold mentions with the same span and label — and records its
provenance: how it got there (`picked`, `unanimous`, `majority`; `manual` for gold items written
directly; `accepted` for machine suggestions accepted into gold, with their model version), the
annotators who gave that version, the reviewer, and when. A merge picks every
unanimous (or majority) group not yet in gold. Every write names the gold layer version it read:
two reviewers settling the same article can't both win; the second gets VersionConflict (409)
and nothing of the first is lost.

Stages of an article: unassigned (no annotator layer), assigned, annotated (at least `overlap`
annotator layers done), adjudicated (the gold layer is adjudicated).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Prefetch, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from annotations.copying import ItemCopier, Key, ProvenanceOf, event_key, mention_key, stance_key, with_copied_rows
from annotations.errors import InvalidAnnotation
from annotations.models import Article, Event, Layer, Mention, Stance
from annotations.services import _layer_touch

COMPARED_STATUSES = (Layer.Status.IN_PROGRESS, Layer.Status.DONE)
KINDS = ("mention", "event", "stance")


class Strategy:
    UNANIMOUS = "unanimous"
    MAJORITY = "majority"
    NONE = "none"
    PICKED = "picked"
    MANUAL = "manual"
    ACCEPTED = "accepted"


MERGE_STRATEGIES = (Strategy.UNANIMOUS, Strategy.MAJORITY, Strategy.NONE)


class Stage:
    UNASSIGNED = "unassigned"
    ASSIGNED = "assigned"
    ANNOTATED = "annotated"
    ADJUDICATED = "adjudicated"

    ALL = ("unassigned", "assigned", "annotated", "adjudicated")


# --- Stages ---------------------------------------------------------------------------------


def _layer_count(layers: QuerySet[Layer]) -> Coalesce:
    counted = layers.order_by().values("article").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def articles_with_stage(articles: QuerySet[Article]) -> QuerySet[Article]:
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
    return articles_with_stage(Article.objects.filter(pk=article.pk)).values_list("stage", flat=True).get()


def filter_stage(articles: QuerySet[Article], stage: str) -> QuerySet[Article]:
    if stage not in Stage.ALL:
        raise InvalidAnnotation("stage", f"unknown stage {stage!r}; allowed: {', '.join(Stage.ALL)}")
    return articles_with_stage(articles).filter(stage=stage)


# --- Reading the layers -----------------------------------------------------------------------


def _with_items(layers: QuerySet[Layer]) -> QuerySet[Layer]:
    # With what a merge copies (annotations.copying): no query per item it copies.
    return layers.select_related("annotator", "adjudicated_by").prefetch_related(
        Prefetch("mentions", queryset=with_copied_rows("mention", Mention.objects.all())),
        Prefetch("events", queryset=with_copied_rows("event", Event.objects.all())),
        Prefetch("stances", queryset=with_copied_rows("stance", Stance.objects.all())),
    )


def compared_layers(article: Article) -> list[Layer]:
    """The annotator layers of the article that are compared (in progress or done), by username."""
    layers = _with_items(
        Layer.objects.filter(article=article, kind=Layer.Kind.ANNOTATOR, status__in=list(COMPARED_STATUSES))
    )
    return sorted(layers, key=lambda layer: layer.annotator.get_username())


def gold_layer(article: Article) -> Layer | None:
    return _with_items(Layer.objects.filter(article=article, kind=Layer.Kind.GOLD)).first()


# --- Keys: what makes two items the same version (annotations.copying: a copy finds the same) ---


def _key_text(key: tuple[Hashable, ...]) -> str:
    return repr(key)


def _items(layer: Layer, kind: str) -> Iterable[Any]:
    return {"mention": layer.mentions, "event": layer.events, "stance": layer.stances}[kind].all()


KEY_OF = {"mention": mention_key, "event": event_key, "stance": stance_key}


# --- Groups -----------------------------------------------------------------------------------


@dataclass
class Group:
    kind: str
    key: tuple[Hashable, ...]
    item: Any  # the first annotator's item of this version: what a pick copies
    items: dict[str, int] = field(default_factory=dict)  # username → item id
    gold: int | None = None
    disagreements: list[str] = field(default_factory=list)

    @property
    def annotators(self) -> list[str]:
        return list(self.items)


def _agreement(support: int, of: int) -> str:
    if support >= of:
        return Strategy.UNANIMOUS
    return Strategy.MAJORITY if 2 * support > of else "minority"


def groups_of(layers: Sequence[Layer], gold: Layer | None = None) -> dict[str, list[Group]]:
    """The annotators' items by kind, one group per version, in text order, with disagreements."""
    result: dict[str, list[Group]] = {}
    for kind in KINDS:
        key_of = KEY_OF[kind]
        groups: dict[tuple[Hashable, ...], Group] = {}
        for layer in layers:
            name = layer.annotator.get_username()
            for item in _items(layer, kind):
                key = key_of(item)
                group = groups.setdefault(key, Group(kind=kind, key=key, item=item))
                group.items.setdefault(name, item.pk)
        if gold is not None:
            in_gold = {key_of(item): item.pk for item in _items(gold, kind)}
            for group in groups.values():
                group.gold = in_gold.get(group.key)
        ordered = sorted(groups.values(), key=_position)
        _mark_disagreements(kind, ordered, len(layers))
        result[kind] = ordered
    return result


def _position(group: Group) -> tuple[Any, ...]:
    item = group.item
    if group.kind == "mention":
        return (item.start, item.end, item.label)
    if group.kind == "event":
        return (item.trigger_start, item.trigger_end, item.event_type, _key_text(group.key))
    evidence = item.evidence_start if item.evidence_start is not None else -1
    return (evidence, _key_text(group.key))


def _mark_disagreements(kind: str, groups: list[Group], of: int) -> None:
    if kind == "mention":
        by_span: dict[tuple[int, int], set[str]] = defaultdict(set)
        for g in groups:
            by_span[(g.item.start, g.item.end)].add(g.item.label)
        # Groups of one label have distinct spans: any two that overlap differ in their boundaries.
        overlapping: set[int] = set()
        by_label: dict[str, list[Group]] = defaultdict(list)
        for g in groups:  # already in text order
            by_label[g.item.label].append(g)
        for same in by_label.values():
            for i, g in enumerate(same):
                for o in same[i + 1 :]:
                    if o.item.start >= g.item.end:
                        break
                    overlapping.update((id(g), id(o)))
        for g in groups:
            if len(by_span[(g.item.start, g.item.end)]) > 1:
                g.disagreements.append("label")
            if id(g) in overlapping:
                g.disagreements.append("boundary")
    elif kind == "event":
        by_trigger: dict[tuple[int, int], Counter[str]] = defaultdict(Counter)
        for g in groups:
            by_trigger[(g.item.trigger_start, g.item.trigger_end)][g.item.event_type] += 1
        for g in groups:
            types = by_trigger[(g.item.trigger_start, g.item.trigger_end)]
            if len(types) > 1:
                g.disagreements.append("type")
            if types[g.item.event_type] > 1:
                g.disagreements.append("arguments")
    else:
        by_pair: dict[tuple[Hashable, ...], set[str]] = defaultdict(set)
        for g in groups:
            by_pair[g.key[1:3]].add(g.item.label)
        for g in groups:
            if len(by_pair[g.key[1:3]]) > 1:
                g.disagreements.append("label")
    for g in groups:
        if len(g.items) < of:
            g.disagreements.append("missing")


# --- The review payload -----------------------------------------------------------------------


def _mention_json(mention: Mention | None) -> dict[str, Any] | None:
    if mention is None:
        return None
    return {"start": mention.start, "end": mention.end, "text": mention.text, "label": mention.label}


def _group_json(group: Group, of: int) -> dict[str, Any]:
    item = group.item
    body: dict[str, Any] = {"key": _key_text(group.key)}
    if group.kind == "mention":
        body.update(start=item.start, end=item.end, text=item.text, label=item.label)
    elif group.kind == "event":
        body.update(
            event_type=item.event_type,
            trigger_start=item.trigger_start,
            trigger_end=item.trigger_end,
            trigger_text=item.trigger_text,
            mode=item.mode,
            realis=item.realis,
            arguments=[
                {"role": a.role, **(_mention_json(a.mention) or {})}
                for a in sorted(item.arguments.all(), key=lambda a: (a.role, a.mention.start, a.mention.end))
            ],
        )
    else:
        body.update(
            label=item.label,
            holder=_mention_json(item.holder),
            target=_mention_json(item.target),
            target_actor={"id": item.target_actor.pk, "name": item.target_actor.name} if item.target_actor else None,
            scope=item.scope,
            evidence_start=item.evidence_start,
            evidence_end=item.evidence_end,
            evidence_text=item.evidence_text,
        )
    support = len(group.items)
    body.update(
        annotators=group.annotators,
        items=group.items,
        support=support,
        of=of,
        agreement=_agreement(support, of),
        disagreements=group.disagreements,
        gold=group.gold,
    )
    return body


def _gold_json(gold: Layer | None) -> dict[str, Any] | None:
    if gold is None:
        return None
    return {
        "id": gold.pk,
        "version": gold.version,
        "status": gold.status,
        "adjudicated_by": gold.adjudicated_by.get_username() if gold.adjudicated_by else None,
        "adjudicated_at": gold.adjudicated_at.isoformat() if gold.adjudicated_at else None,
    }


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
                "username": layer.annotator.get_username(),
                "layer": layer.pk,
                "status": layer.status,
                "version": layer.version,
            }
            for layer in layers
        ],
        "gold": _gold_json(gold),
        "groups": {f"{kind}s": [_group_json(g, of) for g in groups[kind]] for kind in KINDS},
        "summary": {
            f"{kind}s": {
                "groups": len(groups[kind]),
                "disputed": sum(1 for g in groups[kind] if g.disagreements),
                "in_gold": sum(1 for g in groups[kind] if g.gold is not None),
            }
            for kind in KINDS
        },
    }


# --- Writing gold -------------------------------------------------------------------------------


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


def provenance(
    strategy: str,
    *,
    reviewer: AbstractBaseUser | None,
    annotators: Sequence[str] = (),
    model_version: str = "",
    at: str | None = None,
) -> dict[str, Any]:
    """What a gold item records about how it got there; `at` defaults to now.

    The items of one pick or merge share its time, so a layer holds few distinct records (the
    export reads each distinct one once).
    """
    record: dict[str, Any] = {"strategy": strategy}
    if annotators:
        record["annotators"] = list(annotators)
    if model_version:
        record["model_version"] = model_version
    record["reviewer"] = reviewer.get_username() if reviewer is not None else None
    record["at"] = at or timezone.now().isoformat()
    return record


def _provenance_of(
    strategy: str, reviewer: AbstractBaseUser | None, annotators_of: dict[Key, list[str]]
) -> ProvenanceOf:
    at = timezone.now().isoformat()  # one time for the whole pick or merge
    return lambda key: provenance(strategy, reviewer=reviewer, annotators=annotators_of.get(key, ()), at=at)


def _check_gold(gold: Layer) -> None:
    if gold.kind != Layer.Kind.GOLD:
        raise InvalidAnnotation("layer", f"items are picked into a gold layer; this is a {gold.kind} layer")


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
    _layer_touch(gold, expected_version)
    annotators_of = _annotators_of(groups_of(compared_layers(gold.article)))
    copier = ItemCopier(gold, provenance=_provenance_of(Strategy.PICKED, reviewer, annotators_of))
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
    _layer_touch(gold, expected_version)
    if strategy == Strategy.NONE:
        return _result(gold, None)
    layers = compared_layers(gold.article)
    groups = groups_of(layers)
    wanted = (Strategy.UNANIMOUS,) if strategy == Strategy.UNANIMOUS else (Strategy.UNANIMOUS, Strategy.MAJORITY)
    copier = ItemCopier(gold, provenance=_provenance_of(strategy, reviewer, _annotators_of(groups)))
    for kind in KINDS:
        for group in groups[kind]:
            if _agreement(len(group.items), len(layers)) in wanted:
                copier.copy(kind, group.item)
    return _result(gold, copier)
