"""API: the publication date decision (409 on a stale read), the reliability flag, the article's check,
the event linking job, cluster review (confirm, split, merge; 409), with roles and other projects."""

from __future__ import annotations

import pytest

from annotations.models import ClusterMember, EventCluster, Job, Membership
from tests.factories import ArticleFactory, LayerFactory, ProjectFactory
from tests.test_api_helpers import client_for, member, url


@pytest.fixture
def project(db):
    return ProjectFactory(slug="sahel")


@pytest.fixture
def article(project):
    return ArticleFactory(project=project)


def reviewer_client(project, name="reviewer"):
    return client_for(member(project, Membership.Role.REVIEWER, name))


def test_two_reviewers_deciding_on_the_same_read_the_second_gets_409_and_the_first_stays(project, article):
    first, second = reviewer_client(project, "r1"), reviewer_client(project, "r2")
    path = url(project, f"articles/{article.pk}/published/")

    answer = first.post(path, {"published": "2023-12-04", "version": 1}, format="json")
    late = second.post(path, {"published": "2023-04-12", "version": 1}, format="json")

    assert answer.status_code == 200, answer.data
    assert (answer.data["published_suspect"], answer.data["published_version"]) == (False, 2)
    assert late.status_code == 409
    assert late.data["current_version"] == 2 and "another reviewer" in late.data["detail"]
    detail = first.get(url(project, f"articles/{article.pk}/")).data
    assert detail["published"] == "2023-12-04"
    assert detail["source_check"]["published_version"] == 2


def test_the_reliability_flag_is_set_and_shown_in_the_article_list(project, article):
    client = reviewer_client(project)

    answer = client.post(
        url(project, f"articles/{article.pk}/reliability/"), {"reliability": "unreliable", "note": "a content farm"}
    )

    assert answer.status_code == 200, answer.data
    listed = client.get(url(project, "articles/")).data["results"][0]
    assert (listed["source_check"]["reliability"], listed["source_check"]["reliability_note"]) == (
        "unreliable",
        "a content farm",
    )
    bad = client.post(url(project, f"articles/{article.pk}/reliability/"), {"reliability": "fake"})
    assert bad.status_code == 400 and "reliability" in bad.data["errors"]


@pytest.mark.parametrize(("role", "expected"), [("annotator", 403), ("consumer", 403), ("manager", 200)])
def test_deciding_on_a_publication_date_by_role(project, article, role, expected):
    client = client_for(member(project, role))
    answer = client.post(
        url(project, f"articles/{article.pk}/published/"), {"published": None, "version": 1}, format="json"
    )
    assert answer.status_code == expected


def test_other_projects_articles_are_404(project):
    other = ArticleFactory(project=ProjectFactory(slug="other"))
    client = reviewer_client(project)
    answer = client.post(
        url(project, f"articles/{other.pk}/published/"), {"published": None, "version": 1}, format="json"
    )
    assert answer.status_code == 404


def test_a_reviewer_starts_a_linking_job_and_an_annotator_may_not(project, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        answer = reviewer_client(project).post(url(project, "link-events/"), {"layer": "machine:latest"})
    assert answer.status_code == 202, answer.data
    assert Job.objects.get(pk=answer.data["id"]).params["layer"] == "machine:latest"
    annotator = client_for(member(project, "annotator"))
    assert annotator.post(url(project, "link-events/"), {}).status_code == 403
    assert reviewer_client(project, "r9").post(url(project, "link-events/"), {"layer": "nope"}).status_code == 400


def cluster_of_two(project):
    cluster = EventCluster.objects.create(project=project, layer="gold", confidence=0.8, event_type="AGREE")
    for _ in range(2):
        layer = LayerFactory(article=ArticleFactory(project=project))
        event = layer.events.create(event_type="AGREE", trigger_start=0, trigger_end=5, trigger_text="Token")
        ClusterMember.objects.create(cluster=cluster, event=event)
    return cluster


def test_clusters_are_listed_with_their_evidence_and_confirmed_once(project):
    cluster = cluster_of_two(project)
    first, second = reviewer_client(project, "r1"), reviewer_client(project, "r2")

    listed = first.get(url(project, "event-clusters/?status=proposed")).data
    confirmed = first.post(url(project, f"event-clusters/{cluster.pk}/"), {"action": "confirm", "version": 1})
    again = second.post(url(project, f"event-clusters/{cluster.pk}/"), {"action": "confirm", "version": 1})

    assert [len(c["members"]) for c in listed] == [2]
    assert confirmed.status_code == 200 and confirmed.data["status"] == "confirmed"
    assert again.status_code == 409
    assert EventCluster.objects.get(pk=cluster.pk).confirmed_by.username == "r1"


def test_a_cluster_is_split_and_merged_back(project):
    cluster = cluster_of_two(project)
    client = reviewer_client(project)
    event = cluster.members.first().event_id

    split = client.post(
        url(project, f"event-clusters/{cluster.pk}/"),
        {"action": "split", "version": 1, "events": [event]},
        format="json",
    )
    assert split.status_code == 200, split.data
    new = split.data["id"]
    merged = client.post(
        url(project, f"event-clusters/{cluster.pk}/"),
        {"action": "merge", "version": 2, "clusters": [new], "versions": [split.data["version"]]},
        format="json",
    )
    assert merged.status_code == 200, merged.data
    assert len(merged.data["members"]) == 2 and not EventCluster.objects.filter(pk=new).exists()
    consumer = client_for(member(project, "consumer"))
    assert consumer.get(url(project, "event-clusters/")).status_code == 200
    assert (
        consumer.post(url(project, f"event-clusters/{cluster.pk}/"), {"action": "confirm", "version": 3}).status_code
        == 403
    )


def test_an_annotator_sets_a_date_value_by_hand_in_their_layer_and_the_layer_shows_it(project):
    annotator = member(project, "annotator", "ann")
    article = ArticleFactory(project=project, text="The talks began on Monday December 4th in Niamey.")
    layer = LayerFactory(article=article, annotator=annotator)
    start = article.text.index("December 4th")
    date_mention = layer.mentions.create(label="DATE", start=start, end=start + 12, text="December 4th")
    client = client_for(annotator)

    answer = client.post(url(project, f"mentions/{date_mention.pk}/date/"), {"value": "2023-12-04"})
    bad = client.post(url(project, f"mentions/{date_mention.pk}/date/"), {"value": "2023-02-30"})
    other = client_for(member(project, "annotator", "ann2"))

    assert answer.status_code == 200, answer.data
    assert (answer.data["value"], answer.data["granularity"], answer.data["manual"]) == ("2023-12-04", "day", True)
    assert bad.status_code == 400 and "2023-02-30 is not a date" in bad.data["detail"]
    assert other.post(url(project, f"mentions/{date_mention.pk}/date/"), {"value": "2023"}).status_code == 403
    shown = client.get(url(project, f"layers/{layer.pk}/")).data["mentions"][0]["date"]
    assert shown == {"value": "2023-12-04", "granularity": "day", "flag": "", "manual": True}
