"""Event linking on the seeds through a real worker: the wrong publication date of seed 000 caught and
corrected, the Niamey meeting of seeds 000, 001 and 004 proposed as one cluster, confirmed, exported.

Plus the reviewer's decisions on clusters (confirm, split, detach, merge; 409 on a stale read) and a
re-run that leaves what a reviewer settled alone."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import orjson
import pytest
from django.conf import settings
from django.core.management import call_command

from annotations.exports.runner import export_request, export_stream
from annotations.models import ArticleCheck, ClusterMember, Event, EventCluster, Job, Layer
from annotations.services.actors import actors_load_file
from annotations.services.dates import article_published_set, article_reliability_set
from annotations.services.imports import import_paths
from annotations.services.linking import (
    ClusterConflict,
    cluster_confirm,
    cluster_detach,
    cluster_split,
    clusters_merge,
    events_link,
    link_events_start,
)
from annotations.services.preannotation import preannotation_start
from annotations.services.projects import project_create
from tests.factories import UserFactory
from tests.workers import wait_for
from workbench.celery import app

SEEDS = sorted(Path(settings.SEEDS_DIR).glob("*.txt"))


def seeds_imported():
    actors_load_file(path=Path(settings.SEEDS_DIR) / "actors.jsonl")
    project = project_create(slug="seeds", name="Seeds")
    import_paths(project=project, paths=SEEDS)
    return project, list(project.articles.order_by("id"))


def finished(job: Job, worker) -> Job:  # type: ignore[no-untyped-def]
    wait_for(
        lambda: Job.objects.get(pk=job.pk).status in ("succeeded", "failed"),
        timeout=240,
        what=f"job {job.pk}; worker log:\n{worker.output()}",
    )
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    return job


def meeting_cluster(first_article) -> EventCluster:  # type: ignore[no-untyped-def]
    signing = Event.objects.get(layer__article=first_article, layer__kind="machine", trigger_text="signing")
    return EventCluster.objects.get(members__event=signing)


def export_lines(project, **options) -> list[dict]:  # type: ignore[no-untyped-def]
    data = b"".join(export_stream(export_request(project=project, layer="machine:latest", **options)))
    return [orjson.loads(line) for line in data.splitlines()]


@pytest.mark.services
def test_the_seeds_through_a_real_worker(start_worker):
    worker = start_worker()
    project, articles = seeds_imported()
    first, _, trainers, _, _ = articles
    reviewer = UserFactory(username="reviewer")

    # when the worker pre-annotates the seeds
    finished(preannotation_start(project=project), worker)

    # then seed 000 (published "April 12, 2023", reporting "this Monday December 4th") is flagged, no other
    flagged = list(ArticleCheck.objects.filter(published_suspect=True).values_list("article_id", flat=True))
    assert flagged == [first.pk]
    reason = ArticleCheck.objects.get(article=first).published_suspect_reason
    assert "“December 4th”: December 4 is a Monday in 2023, not in 2022" in reason
    # and after a reviewer sets December 4, 2023, "this Monday December 4th" resolves to it, unflagged
    article_published_set(article=first, published=date(2023, 12, 4), version=1, user=reviewer)
    december = first.layers.get(kind=Layer.Kind.MACHINE).mentions.get(text="December 4th")
    assert (december.date.value, december.date.flag) == ("2023-12-04", "")

    # when the worker links the machine layers' events (the command waits for it)
    call_command("link_events", "--project", "seeds", "--layer", "machine:latest", "--wait")

    # then the signing reported by seeds 000, 001 and 004 is one proposed cluster: Dec 4, 2023, Niamey
    cluster = meeting_cluster(first)
    assert (cluster.status, cluster.date_value, cluster.granularity, cluster.place_text) == (
        "proposed",
        "2023-12-04",
        "day",
        "Niamey",
    )
    members = Event.objects.filter(cluster_member__cluster=cluster)
    assert {e.layer.article_id for e in members if e.event_type in ("AGREE", "COOPERATE")} == {
        articles[0].pk,
        articles[1].pk,
        articles[4].pk,
    }
    codes = set(members.filter(arguments__role="actor").values_list("arguments__mention__actor__country", flat=True))
    assert {"RUS", "NER"} <= codes
    # and seed 002's April 2024 trainers (AID) are not in it
    assert not members.filter(layer__article=trainers).exists()

    # when a reviewer confirms it, the events export has one row for the meeting with three sources
    cluster_confirm(cluster=cluster, version=cluster.version, user=reviewer)
    (row,) = export_lines(project, format="events")
    assert (row["date"], row["num_sources"], row["location"]["placename"], row["status"]) == (
        "2023-12-04",
        3,
        "Niamey",
        "confirmed",
    )
    assert {"RUS", "NER"} <= {a["country"] for a in row["actor"] + row["recipient"]}
    assert sorted(s["article"] for s in row["sources"]) == sorted(articles[i].content_hash for i in (0, 1, 4))
    assert all(s["evidence"] and s["trigger"] for s in row["sources"])
    # and a flagged source no longer counts unless asked
    article_reliability_set(article=articles[4], reliability="translation", note="of the Africanews wire")
    assert export_lines(project, format="events")[0]["num_sources"] == 2
    assert export_lines(project, format="events", sources="all")[0]["num_sources"] == 3


@pytest.fixture
def preannotated(db, django_capture_on_commit_callbacks):
    """The seeds imported and pre-annotated in this process (the job run eagerly on the test database)."""
    project, articles = seeds_imported()
    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            preannotation_start(project=project)
    finally:
        app.conf.task_always_eager = False
    assert Layer.objects.filter(kind="machine").count() == 5
    return project, articles


def test_the_seed_jsonl_export_carries_the_date_values_and_the_suspect_date(preannotated):
    project, articles = preannotated

    lines = {line["id"]: line for line in export_lines(project, format="jsonl")}
    first = lines[articles[0].content_hash]
    assert first["published_suspect"] is True and "2023" in first["published_suspect_reason"]
    december = next(m for m in first["mentions"] if m["text"] == "December 4th")
    assert (december["value"], december["granularity"], december["date_flag"]) == (
        "2023-12-04",
        "day",
        "weekday_conflict",
    )
    assert "published_suspect" not in lines[articles[2].content_hash]


def test_reviewer_decisions_on_clusters_and_a_rerun_that_keeps_them(preannotated):
    project, articles = preannotated
    events_link(project=project, layer="machine:latest")
    cluster = meeting_cluster(articles[0])
    event_ids = list(ClusterMember.objects.filter(cluster=cluster).values_list("event_id", flat=True))
    reviewer = UserFactory(username="reviewer")

    # a split moves events out into a new cluster; both are kept by a re-run
    moved = cluster_split(cluster=cluster, event_ids=event_ids[:1], version=cluster.version)
    cluster.refresh_from_db()
    assert moved.members.count() == 1 and cluster.reviewed and cluster.members.count() == len(event_ids) - 1
    # a decision on a stale read is a conflict, and changes nothing
    with pytest.raises(ClusterConflict):
        cluster_confirm(cluster=cluster, version=cluster.version - 1, user=reviewer)
    merged = clusters_merge(clusters=[cluster, moved], versions=[cluster.version, moved.version])
    assert merged.members.count() == len(event_ids)
    assert not EventCluster.objects.filter(pk=moved.pk).exists()
    detached = cluster_detach(cluster=merged, event_id=event_ids[-1], version=merged.version)
    assert list(detached.members.values_list("event_id", flat=True)) == [event_ids[-1]]
    merged.refresh_from_db()
    confirmed = cluster_confirm(cluster=merged, version=merged.version, user=reviewer)

    # when linking runs again, what the reviewer settled stays as it is
    before = sorted(ClusterMember.objects.filter(cluster=confirmed).values_list("event_id", flat=True))
    counts = events_link(project=project, layer="machine:latest")
    assert counts["kept"] == 2
    assert sorted(ClusterMember.objects.filter(cluster=confirmed).values_list("event_id", flat=True)) == before
    assert EventCluster.objects.get(pk=confirmed.pk).status == "confirmed"
    assert ClusterMember.objects.get(event_id=event_ids[-1]).cluster_id == detached.pk


def test_the_link_job_is_enqueued_after_commit_and_refuses_a_bad_layer(db, django_capture_on_commit_callbacks):
    project = project_create(slug="p", name="P")
    with pytest.raises(Exception, match="is not a layer selector"):
        link_events_start(project=project, layer="nonsense")
    with django_capture_on_commit_callbacks() as callbacks:
        job = link_events_start(project=project, layer="gold")
    assert (job.kind, job.params["layer"], len(callbacks)) == ("link", "gold", 1)
