"""Event linking jobs and the reviewer's decisions on the clusters they propose.

`link_events_start` creates the job (kind link) and enqueues it; `link_events_run` (the worker)
reads the events of the selected layers (the layer selector of the exports, gold by default),
resolves their dates and places (`services.dates`), proposes clusters (`annotations.linking`) and
stores them. Clusters a reviewer confirmed, split, merged or detached are never changed by a re-run,
and their events take no part in it; every other proposal of the same project and selector is
replaced, so a re-run after an import lets new articles join (incremental by recomputation: the
blocking keeps it sub-quadratic).

Each decision names the cluster versions it read: a decision on a stale read is a ClusterConflict
(409) and changes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from annotations.dates import DateValue
from annotations.exports.selection import parse_layer_selector, parse_statuses, selected_layers, selection_resolve
from annotations.linking import EventRecord, link
from annotations.models import Actor, ClusterMember, Event, EventCluster, EventResolution, Job, Project
from annotations.services import jobs
from annotations.services.dates import dates_ensure

ACTOR_ROLES = ("actor", "recipient")
SOURCE_WEIGHT = {"time_argument": 3, "sentence": 2, "published": 1, "none": 0}


class ClusterConflict(Exception):
    """A cluster changed since the reviewer read it (another reviewer decided first). Maps to 409."""

    def __init__(self, *, cluster_id: int, expected: int, current: int):
        self.cluster_id, self.expected, self.current = cluster_id, expected, current
        super().__init__(
            f"Cluster {cluster_id} is at version {current}, not {expected}: another reviewer changed it. "
            "Reload it and decide again."
        )


def link_events_start(*, project: Project, layer: str = "gold", status: str | None = None, user: Any = None) -> Job:
    """Check the selector, create the job and enqueue it after commit."""
    selector = parse_layer_selector(layer)
    selection_resolve(project=project, layer=selector, statuses=parse_statuses(status, layer=selector))
    job = jobs.job_create(
        kind=Job.Kind.LINK, project=project, params={"layer": str(selector), "status": status}, created_by=user
    )
    transaction.on_commit(lambda: jobs.job_enqueue(job_id=job.pk, task=jobs.Task.LINK_EVENTS_JOB))
    return job


def link_events_run(*, job_id: int) -> dict[str, int]:
    job = Job.objects.select_related("project").get(pk=job_id)
    if not jobs.job_start(job_id=job_id):
        return {}
    assert job.project is not None
    counts = events_link(project=job.project, layer=job.params.get("layer", "gold"), status=job.params.get("status"))
    jobs.job_succeed(job_id=job_id, counts=counts)
    return counts


def _records(events: Sequence[Event]) -> list[EventRecord]:
    records = []
    for event in events:
        resolution: EventResolution | None = getattr(event, "resolution", None)
        value = DateValue(resolution.date_value or None, resolution.granularity) if resolution else DateValue(None, "")
        codes, names = set(), set()
        for argument in event.arguments.all():
            if argument.role not in ACTOR_ROLES:
                continue
            actor = argument.mention.actor
            if actor is not None:
                codes.add(actor.country or actor.name)
            else:
                names.add(argument.mention.text.lower())
        place_actor: Actor | None = resolution.place_actor if resolution else None
        article = event.layer.article
        records.append(
            EventRecord(
                id=event.pk,
                article_id=article.pk,
                story=article.story_key or article.content_hash,
                event_type=event.event_type,
                first_day=value.first_day if value.granularity in ("day", "range") else None,
                last_day=value.last_day if value.granularity in ("day", "range") else None,
                codes=frozenset(codes),
                names=frozenset(names),
                place=(place_actor.name if place_actor else (resolution.place_text if resolution else "")).lower(),
                place_country=place_actor.country if place_actor else "",
            )
        )
    return records


@transaction.atomic
def events_link(*, project: Project, layer: str = "gold", status: str | None = None) -> dict[str, int]:
    """Propose clusters for the events of the selected layers (see the module's docstring)."""
    selector = parse_layer_selector(layer)
    selection = selection_resolve(project=project, layer=selector, statuses=parse_statuses(status, layer=selector))
    layers = selected_layers(selection)
    dates_ensure(project=project, article_ids=list(layers.values_list("article_id", flat=True)))
    kept = EventCluster.objects.filter(project=project, layer=str(selector)).filter(
        Q(status=EventCluster.Status.CONFIRMED) | Q(reviewed=True)
    )
    EventCluster.objects.filter(project=project, layer=str(selector)).exclude(pk__in=kept).delete()
    events = list(
        Event.objects.filter(layer__in=layers)
        .exclude(cluster_member__cluster__in=kept)
        .select_related("layer__article", "resolution__place_actor")
        .prefetch_related("arguments__mention__actor")
        .order_by("id")
    )
    proposals = link(_records(events))
    by_id = {event.pk: event for event in events}
    for proposal in proposals:
        members = [by_id[i] for i in proposal.event_ids]
        cluster = EventCluster.objects.create(
            project=project,
            layer=str(selector),
            confidence=proposal.confidence,
            evidence={"pairs": [[a, b, round(s, 3)] for a, b, s in proposal.pairs]},
            **cluster_summary(members),
        )
        ClusterMember.objects.bulk_create(ClusterMember(cluster=cluster, event=event) for event in members)
    return {"events": len(events), "clusters": len(proposals), "kept": kept.count()}


def cluster_summary(events: Sequence[Event]) -> dict[str, Any]:
    """The cluster's type, date (the value its members' text supports most) and place (the most
    reported)."""
    dates: Counter[tuple[str, str]] = Counter()
    places: dict[tuple[str, int | None], float] = {}
    for event in events:
        resolution = getattr(event, "resolution", None)
        if resolution is None:
            continue
        if resolution.date_value:
            dates[(resolution.date_value, resolution.granularity)] += SOURCE_WEIGHT.get(resolution.date_source, 0) + (
                2 if resolution.granularity == "day" else 0
            )
        if resolution.place_text:
            actor = resolution.place_actor
            # Reports count; among as many, the place of the best-dated report (the time argument's).
            weight = 1 + SOURCE_WEIGHT.get(resolution.date_source, 0) / 10
            key = (actor.name if actor else resolution.place_text, resolution.place_actor_id)
            places[key] = places.get(key, 0.0) + weight
    types = Counter(event.event_type for event in events)
    (date_value, granularity), _ = max(dates.items(), key=lambda item: (item[1], item[0])) if dates else (("", ""), 0)
    (place_text, place_actor_id), _ = (
        max(places.items(), key=lambda item: (item[1], item[0][0])) if places else (("", None), 0)
    )
    return {
        "event_type": max(types.items(), key=lambda item: (item[1], item[0]))[0] if types else "",
        "date_value": date_value,
        "granularity": granularity,
        "place_text": place_text,
        "place_actor_id": place_actor_id,
    }


def _locked(cluster_ids: Sequence[int], versions: Sequence[int]) -> list[EventCluster]:
    if len(cluster_ids) != len(versions):
        raise ValidationError({"versions": ["give one version per cluster"]})
    clusters = {c.pk: c for c in EventCluster.objects.select_for_update().filter(pk__in=cluster_ids)}
    for cluster_id, version in zip(cluster_ids, versions, strict=True):
        cluster = clusters.get(cluster_id)
        if cluster is None:
            raise ValidationError({"clusters": [f"no cluster {cluster_id}"]})
        if cluster.version != version:
            raise ClusterConflict(cluster_id=cluster_id, expected=version, current=cluster.version)
    return [clusters[i] for i in cluster_ids]


def _refresh(cluster: EventCluster, **changes: Any) -> EventCluster:
    events = list(Event.objects.filter(cluster_member__cluster=cluster).select_related("resolution__place_actor"))
    for name, value in {**cluster_summary(events), **changes}.items():
        setattr(cluster, name, value)
    cluster.version += 1
    cluster.save()
    return cluster


@transaction.atomic
def cluster_confirm(*, cluster: EventCluster, version: int, user: Any) -> EventCluster:
    """Confirm a proposed cluster: a re-run never changes it, the events export counts it."""
    (locked,) = _locked([cluster.pk], [version])
    if locked.status == EventCluster.Status.CONFIRMED:
        raise ClusterConflict(cluster_id=locked.pk, expected=version, current=locked.version)
    return _refresh(locked, status=EventCluster.Status.CONFIRMED, confirmed_by=user, confirmed_at=timezone.now())


def _check_members(cluster: EventCluster, event_ids: Sequence[int]) -> list[int]:
    ids = sorted(set(event_ids))
    members = set(ClusterMember.objects.filter(cluster=cluster).values_list("event_id", flat=True))
    missing = sorted(set(ids) - members)
    if missing or not ids:
        raise ValidationError({"events": [f"not in cluster {cluster.pk}: {missing or 'none given'}"]})
    return ids


@transaction.atomic
def cluster_split(*, cluster: EventCluster, event_ids: Sequence[int], version: int) -> EventCluster:
    """Move some events out into a new cluster of their own (both kept by re-runs)."""
    (locked,) = _locked([cluster.pk], [version])
    ids = _check_members(locked, event_ids)
    if len(ids) == locked.members.count():
        raise ValidationError({"events": ["a split leaves at least one event in the cluster"]})
    new = EventCluster.objects.create(
        project=locked.project, layer=locked.layer, confidence=locked.confidence, reviewed=True
    )
    ClusterMember.objects.filter(cluster=locked, event_id__in=ids).update(cluster=new)
    _refresh(locked, reviewed=True)
    return _refresh(new)


@transaction.atomic
def cluster_detach(*, cluster: EventCluster, event_id: int, version: int) -> EventCluster:
    """Take one event out: it stands alone (a reviewed cluster of one, so a re-run leaves it alone)."""
    return cluster_split(cluster=cluster, event_ids=[event_id], version=version)


@transaction.atomic
def clusters_merge(*, clusters: Sequence[EventCluster], versions: Sequence[int]) -> EventCluster:
    """Merge clusters into the first: one real-world event."""
    locked = _locked([c.pk for c in clusters], versions)
    if len(locked) < 2 or len({c.layer for c in locked}) > 1 or len({c.project_id for c in locked}) > 1:
        raise ValidationError({"clusters": ["merge two or more clusters of one project and layer"]})
    first, rest = locked[0], locked[1:]
    ClusterMember.objects.filter(cluster__in=rest).update(cluster=first)
    EventCluster.objects.filter(pk__in=[c.pk for c in rest]).delete()
    confirmed = any(c.status == EventCluster.Status.CONFIRMED for c in locked)
    return _refresh(
        first,
        reviewed=True,
        status=EventCluster.Status.CONFIRMED if confirmed else first.status,
        confidence=max(c.confidence for c in locked),
    )
