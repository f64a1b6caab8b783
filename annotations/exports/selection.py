"""Which layer of which articles an export reads, and how a layer becomes an ExportDocument.

Selector syntax (`--layer`): `gold` (default), `annotator:USERNAME`, `machine:VERSION` or
`machine:latest` (the model version of the project's most recently written machine layer).
Articles without the selected layer are left out. Layers are read in batches keyed on the
article id, each batch with its mentions, events, arguments and stances in a fixed number of
queries, so memory and queries per article stay constant however large the project.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils import timezone

from annotations.exports.base import (
    ActorJSON,
    ArgumentJSON,
    EventJSON,
    ExportDocument,
    ExportOptionError,
    MentionJSON,
    StanceJSON,
)
from annotations.models import Actor, Article, Event, EventArgument, Layer, Mention, Project, Stance

BATCH_SIZE = 500
LAYER_SELECTOR_HELP = "gold, annotator:USERNAME, machine:VERSION or machine:latest"


@dataclass(frozen=True)
class LayerSelector:
    kind: str  # gold | annotator | machine
    name: str = ""  # the annotator's username or the model version ("latest" until resolved)

    def __str__(self) -> str:
        return self.kind if not self.name else f"{self.kind}:{self.name}"


def parse_layer_selector(value: str) -> LayerSelector:
    text = value.strip() if isinstance(value, str) else ""
    kind, _, name = text.partition(":")
    if kind == "gold" and not name and ":" not in text:
        return LayerSelector("gold")
    if kind in ("annotator", "machine") and name.strip():
        return LayerSelector(kind, name.strip())
    raise ExportOptionError("layer", f"{value!r} is not a layer selector; use {LAYER_SELECTOR_HELP}")


def parse_since(value: str | datetime | None) -> datetime | None:
    """An ISO date or date-time; without a zone it is read in the project's TIME_ZONE."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise ExportOptionError(
                "since", f"{value!r} is not an ISO date or date-time (such as 2024-04-12 or 2024-04-12T08:00:00Z)"
            ) from None
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def parse_statuses(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """Layer statuses to keep ('done,adjudicated'); empty keeps every status."""
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    statuses = tuple(dict.fromkeys(item.strip() for item in items if item.strip()))
    unknown = [s for s in statuses if s not in Layer.Status.values]
    if unknown:
        raise ExportOptionError(
            "status", f"unknown layer status {', '.join(map(repr, unknown))}; allowed: {', '.join(Layer.Status.values)}"
        )
    return statuses


@dataclass(frozen=True)
class Selection:
    """A resolved selection: `model_version` is set for machine layers, `annotator_id` for annotators.

    `empty` means nothing can match (machine:latest in a project without machine layers).
    """

    project: Project
    layer: LayerSelector
    statuses: tuple[str, ...] = ()
    since: datetime | None = None
    annotator_id: int | None = None
    model_version: str = ""
    empty: bool = False


def selection_resolve(
    *, project: Project, layer: LayerSelector, statuses: tuple[str, ...] = (), since: datetime | None = None
) -> Selection:
    """Look up the annotator or the latest model version; an unknown username is an error."""
    if layer.kind == "annotator":
        user_id = get_user_model().objects.filter(username=layer.name).values_list("pk", flat=True).first()
        if user_id is None:
            raise ExportOptionError("layer", f"no user named {layer.name!r}")
        return Selection(project, layer, statuses, since, annotator_id=user_id)
    if layer.kind == "machine":
        version = layer.name
        if version == "latest":
            version = (
                Layer.objects.filter(article__project=project, kind=Layer.Kind.MACHINE)
                .order_by("-created_at", "-id")
                .values_list("model_version", flat=True)
                .first()
            ) or ""
        return Selection(project, layer, statuses, since, model_version=version, empty=not version)
    return Selection(project, layer, statuses, since)


def selected_layers(selection: Selection) -> QuerySet[Layer]:
    layers = Layer.objects.filter(article__project=selection.project, kind=selection.layer.kind)
    if selection.empty:
        return layers.none()
    if selection.annotator_id is not None:
        layers = layers.filter(annotator_id=selection.annotator_id)
    if selection.model_version:
        layers = layers.filter(model_version=selection.model_version)
    if selection.statuses:
        layers = layers.filter(status__in=selection.statuses)
    if selection.since is not None:
        layers = layers.filter(article__created_at__gt=selection.since)
    return layers


@dataclass
class LayerBundle:
    """A layer with its article and every annotation, loaded for a whole batch at once."""

    layer: Layer
    mentions: list[Mention] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    arguments: dict[int, list[EventArgument]] = field(default_factory=dict)
    stances: list[Stance] = field(default_factory=list)


def layer_batches(layers: QuerySet[Layer], batch_size: int = BATCH_SIZE) -> Iterator[list[LayerBundle]]:
    """Layers in article order, `batch_size` at a time, each batch in five queries.

    Keyset pagination on the article id (a selector matches at most one layer per article).
    Related rows are grouped by hand: Django's prefetch would clone a queryset per layer.
    """
    ordered = layers.select_related("article", "annotator").order_by("article_id")
    after = 0
    while True:
        page = list(ordered.filter(article_id__gt=after)[:batch_size])
        if not page:
            return
        bundles = {layer.pk: LayerBundle(layer) for layer in page}
        ids = list(bundles)
        for mention in Mention.objects.filter(layer_id__in=ids).select_related("actor").order_by():
            bundles[mention.layer_id].mentions.append(mention)
        events = {}
        for event in Event.objects.filter(layer_id__in=ids).order_by():
            bundles[event.layer_id].events.append(event)
            events[event.pk] = bundles[event.layer_id]
        arguments = EventArgument.objects.filter(event__layer_id__in=ids).only("id", "event_id", "role", "mention_id")
        for argument in arguments.order_by():
            events[argument.event_id].arguments.setdefault(argument.event_id, []).append(argument)
        for stance in Stance.objects.filter(layer_id__in=ids).select_related("target_actor").order_by():
            bundles[stance.layer_id].stances.append(stance)
        yield list(bundles.values())
        if len(page) < batch_size:
            return
        after = page[-1].article_id


def article_rows(project: Project) -> Iterator[tuple[int, str, str]]:
    """(id, content hash, text) of every article of the project, in one streamed query."""
    rows = Article.objects.filter(project=project).order_by("id").values_list("id", "content_hash", "text")
    yield from rows.iterator(chunk_size=1000)


def entity_labels_in(layers: QuerySet[Layer]) -> set[str]:
    return set(Mention.objects.filter(layer__in=layers).values_list("label", flat=True).distinct())


# --- Layer → ExportDocument -------------------------------------------------------------------


def _actor(actor: Actor | None) -> ActorJSON | None:
    if actor is None:
        return None
    return {"name": actor.name, "country": actor.country, "sector": actor.sector, "wikidata_id": actor.wikidata_id}


def export_document(bundle: LayerBundle, split: str) -> ExportDocument:
    """The layer as a self-contained document; ids are positions (m0, e0, s0) in a content order.

    Mentions are ordered by (start, end, label), events by trigger then type, stances by evidence,
    holder and target, so the same annotations give the same document in any database.
    """
    layer = bundle.layer
    article = layer.article
    mentions = sorted(bundle.mentions, key=lambda m: (m.start, m.end, m.label))
    mention_ids = {m.pk: f"m{i}" for i, m in enumerate(mentions)}
    position = {m.pk: i for i, m in enumerate(mentions)}
    events = sorted(
        bundle.events,
        key=lambda e: (e.trigger_start, e.trigger_end, e.event_type, e.mode, e.realis, e.pk),
    )
    stances = sorted(
        bundle.stances,
        key=lambda s: (
            s.evidence_start is not None,
            s.evidence_start or 0,
            s.evidence_end or 0,
            position.get(s.holder_id, -1) if s.holder_id else -1,
            position.get(s.target_id, -1) if s.target_id else -1,
            s.label,
            s.pk,
        ),
    )
    mention_json: list[MentionJSON] = [
        {
            "id": mention_ids[m.pk],
            "label": m.label,
            "start": m.start,
            "end": m.end,
            "text": m.text,
            "actor": _actor(m.actor),
            "score": m.score,
        }
        for m in mentions
    ]
    event_json: list[EventJSON] = []
    for i, event in enumerate(events):
        arguments: list[ArgumentJSON] = [
            {"role": a.role, "mention": mention_ids[a.mention_id]}
            for a in sorted(bundle.arguments.get(event.pk, []), key=lambda a: (a.role, position[a.mention_id]))
        ]
        event_json.append(
            {
                "id": f"e{i}",
                "type": event.event_type,
                "trigger": {"start": event.trigger_start, "end": event.trigger_end, "text": event.trigger_text},
                "mode": event.mode or None,
                "realis": event.realis,
                "contexts": list(event.contexts),
                "score": event.score,
                "arguments": arguments,
            }
        )
    stance_json: list[StanceJSON] = [
        {
            "id": f"s{i}",
            "holder": mention_ids[s.holder_id] if s.holder_id else None,
            "target": mention_ids[s.target_id] if s.target_id else None,
            "target_actor": _actor(s.target_actor),
            "label": s.label,
            "scope": s.scope,
            "evidence": (
                {"start": s.evidence_start, "end": s.evidence_end, "text": s.evidence_text}
                if s.evidence_start is not None and s.evidence_end is not None
                else None
            ),
            "score": s.score,
        }
        for i, s in enumerate(stances)
    ]
    return {
        "id": article.content_hash,
        "title": article.title,
        "text": article.text,
        "source": article.source,
        "url": article.url,
        "published": article.published.isoformat() if article.published else None,
        "language": article.language,
        "metadata": article.metadata,
        "split": split,
        "layer": {
            "kind": layer.kind,
            "annotator": layer.annotator.get_username() if layer.annotator else None,
            "model_version": layer.model_version or None,
            "status": layer.status,
        },
        "mentions": mention_json,
        "events": event_json,
        "stances": stance_json,
    }
