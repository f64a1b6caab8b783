"""Admin: the event clusters page (side by side, confirm / split / detach, a stale page's conflict as a
message), the publication date page, the article list's source check column and filter."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from annotations.models import ArticleCheck, ClusterMember, EventCluster, EventResolution
from tests.factories import ArticleFactory, LayerFactory, MembershipFactory, ProjectFactory, UserFactory


@pytest.fixture
def project(db):
    return ProjectFactory(slug="sahel")


def browser(project, role: str, username: str) -> Client:
    user = UserFactory(username=username, is_staff=True)
    MembershipFactory(project=project, user=user, role=role)
    client = Client()
    client.force_login(user)
    return client


def cluster_of_two(project) -> EventCluster:
    cluster = EventCluster.objects.create(project=project, layer="gold", confidence=0.8, event_type="AGREE")
    for outlet in ("RFI", "Africanews"):
        article = ArticleFactory(project=project, source=outlet)
        event = LayerFactory(article=article).events.create(
            event_type="AGREE", trigger_start=0, trigger_end=5, trigger_text=article.text[:5]
        )
        EventResolution.objects.create(event=event, date_value="2023-12-04", granularity="day", sentence_end=20)
        ClusterMember.objects.create(cluster=cluster, event=event)
    return cluster


def test_a_reviewer_sees_the_evidence_side_by_side_and_confirms(project):
    cluster = cluster_of_two(project)
    client = browser(project, "reviewer", "reviewer")
    page = reverse("admin:workspace_event_clusters", args=[project.slug])

    html = client.get(page).content.decode()
    assert html.count('class="wb-cluster-source"') == 2 and "RFI" in html and "Africanews" in html

    client.post(page, {"cluster": cluster.pk, "version": 1, "action": "confirm"})
    cluster.refresh_from_db()
    assert cluster.status == "confirmed"
    # a second reviewer on the page they loaded before: the conflict is shown, nothing changes
    late = browser(project, "reviewer", "reviewer2")
    answer = late.post(page, {"cluster": cluster.pk, "version": 1, "action": "split", "events": []}, follow=True)
    assert "another reviewer changed it" in answer.content.decode()
    assert EventCluster.objects.get(pk=cluster.pk).members.count() == 2


def test_a_reviewer_detaches_an_event_and_an_annotator_may_not_open_the_page(project):
    cluster = cluster_of_two(project)
    event = cluster.members.first().event_id
    page = reverse("admin:workspace_event_clusters", args=[project.slug])

    browser(project, "reviewer", "reviewer").post(
        page, {"cluster": cluster.pk, "version": 1, "action": "detach", "events": [event]}
    )

    assert ClusterMember.objects.get(event_id=event).cluster_id != cluster.pk
    assert browser(project, "annotator", "annotator").get(page).status_code == 403


def test_the_article_list_filters_suspect_dates_and_the_reviewer_corrects_one(project):
    suspect, fine = ArticleFactory(project=project, published=date(2023, 4, 12)), ArticleFactory(project=project)
    ArticleCheck.objects.create(article=suspect, published_suspect=True, published_suspect_reason="weekday")
    superuser = Client()
    superuser.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))

    listed = superuser.get(reverse("admin:annotations_article_changelist") + "?source_check=suspect").content.decode()

    assert f"/{suspect.pk}/change/" in listed and f"/{fine.pk}/change/" not in listed
    assert "suspect date" in listed
    page = reverse("admin:workspace_published", args=[project.slug, suspect.pk])
    assert "Suspect: weekday" in browser(project, "reviewer", "r").get(page).content.decode()
    browser(project, "reviewer", "r2").post(page, {"published": "2023-12-04", "version": 1})
    suspect.refresh_from_db()
    assert suspect.published == date(2023, 12, 4)
    assert not ArticleCheck.objects.get(article=suspect).published_suspect
