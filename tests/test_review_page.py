"""The reviewer's pages in the admin: the review queue (articles by stage) and the review page
(the gold layer in the workspace, with the annotators' versions to compare). Access, the gold
layer made by the page's POST (never by a GET), the page's data, escaping. (What the page does in a browser is tested
in tests/browser/test_review.py.)"""

from __future__ import annotations

import json
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotations.models import Layer, Membership, Project
from annotations.services.layers import layer_gold, layer_set_status
from tests.factories import ArticleFactory, MembershipFactory, ProjectFactory, UserFactory
from tests.review_fixtures import ReviewSetup, review_setup

pytestmark = pytest.mark.django_db

XSS = "<script>alert(1)</script> and <img src=x onerror=alert(1)>"


def page_data(response) -> dict:
    match = re.search(r'<script id="wb-data" type="application/json">(.*?)</script>', response.content.decode(), re.S)
    assert match, "the page embeds its data with json_script"
    return json.loads(match.group(1))


def review_url(setup: ReviewSetup, index: int = 0) -> str:
    return reverse("admin:workspace_review", args=[setup.project.slug, setup.articles[index].pk])


def open_gold(client: Client, setup: ReviewSetup, index: int = 0) -> dict:
    """What the page's JavaScript does when the gold layer is missing: POST it through the API, then load the state."""
    article = setup.articles[index]
    created = client.post(
        reverse("api:article-layers", args=[setup.project.slug, article.pk]), {"kind": "gold"}, "application/json"
    )
    assert created.status_code in (200, 201), created.content
    return client.get(reverse("admin:workspace_review_state", args=[setup.project.slug, article.pk])).json()


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def setup(db) -> ReviewSetup:
    return review_setup()


# --- Access ------------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["reviewer", "manager"])
def test_reviewers_and_managers_open_the_review_page(setup, username):
    response = logged_in(setup.users[username]).get(review_url(setup))

    assert response.status_code == 200
    assert "admin/workspace/review.html" in [t.name for t in response.templates]


def test_a_superuser_who_is_no_member_may_review(setup):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)

    assert logged_in(admin).get(review_url(setup)).status_code == 200


def test_annotators_and_consumers_may_not_review(setup):
    consumer = UserFactory(username="ml", is_staff=True)
    MembershipFactory(project=setup.project, user=consumer, role=Membership.Role.CONSUMER)
    state = reverse("admin:workspace_review_state", args=[setup.project.slug, setup.first.pk])

    for user in (setup.users["annotator1"], consumer):
        client = logged_in(user)
        assert client.get(review_url(setup)).status_code == 403
        assert client.get(state).status_code == 403
    assert not Layer.objects.filter(kind=Layer.Kind.GOLD).exists()  # nothing made for them


def test_a_reviewer_of_another_project_gets_not_found(setup):
    other = ProjectFactory(slug="elsewhere")
    stranger = UserFactory(username="other-reviewer", is_staff=True)
    MembershipFactory(project=other, user=stranger, role=Membership.Role.REVIEWER)
    client = logged_in(stranger)

    assert client.get(review_url(setup)).status_code == 404
    # Nor under their own project's slug: the article is not in it.
    assert client.get(reverse("admin:workspace_review", args=[other.slug, setup.first.pk])).status_code == 404
    assert client.get(reverse("admin:workspace_review_queue")).content.decode().count(setup.first.title) == 0


def test_the_review_pages_need_a_staff_login(setup):
    client = Client()
    for url in (review_url(setup), reverse("admin:workspace_review_queue")):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("admin:login"))


# --- The review page ---------------------------------------------------------------------------


def test_a_get_of_the_review_page_or_its_state_creates_no_gold_layer(setup):
    client = logged_in(setup.users["reviewer"])
    layers_before = Layer.objects.count()
    state_url = reverse("admin:workspace_review_state", args=[setup.project.slug, setup.first.pk])

    data = page_data(client.get(review_url(setup)))
    state = client.get(state_url)

    assert Layer.objects.count() == layers_before
    assert data["layer"] is None
    assert data["urls"]["layers"] == f"/api/v1/projects/{setup.project.slug}/articles/{setup.first.pk}/layers/"
    assert data["review"]["gold"] is None
    assert state.status_code == 404
    assert "no gold layer yet" in state.json()["detail"]


def test_the_pages_post_makes_the_gold_layer_once_pre_filled_by_the_projects_strategy(setup):
    assert setup.project.merge_strategy == "unanimous"  # the default
    client = logged_in(setup.users["reviewer"])

    first = open_gold(client, setup)
    second = open_gold(client, setup)
    page = page_data(client.get(review_url(setup)))

    gold = Layer.objects.get(article=setup.first, kind=Layer.Kind.GOLD)
    assert first["layer"]["id"] == second["layer"]["id"] == page["layer"]["id"] == gold.pk
    assert first["layer"]["kind"] == "gold"
    assert second["layer"]["version"] == first["layer"]["version"]  # filled once, by the first POST
    assert sorted(
        (m["label"], m["text"], m["provenance"]["strategy"], m["provenance"]["reviewer"])
        for m in first["layer"]["mentions"]
    ) == [
        ("GPE", "Niger", "unanimous", "reviewer"),
        ("GPE", "Russia", "unanimous", "reviewer"),
        ("PERSON", "Yevkurov", "unanimous", "reviewer"),
    ]
    assert first["review"]["summary"]["mentions"]["in_gold"] == 3
    assert page["review"]["summary"]["mentions"]["in_gold"] == 3


def test_a_project_without_a_merge_strategy_opens_an_empty_gold_layer(setup):
    Project.objects.filter(pk=setup.project.pk).update(merge_strategy="none")

    data = open_gold(logged_in(setup.users["manager"]), setup)

    assert (data["layer"]["mentions"], data["layer"]["events"], data["layer"]["stances"]) == ([], [], [])


def test_the_page_data_is_the_review_mode_with_the_comparison(setup):
    data = page_data(logged_in(setup.users["reviewer"]).get(review_url(setup)))

    assert data["mode"] == "review"
    assert data["machine"] is None
    assert data["urls"]["state"] == reverse("admin:workspace_review_state", args=[setup.project.slug, setup.first.pk])
    assert data["urls"]["api"] == f"/api/v1/projects/{setup.project.slug}/"
    review = data["review"]
    assert review["stage"] == "annotated"
    assert [(a["username"], a["status"]) for a in review["annotators"]] == [
        ("annotator1", "done"),
        ("annotator2", "done"),
    ]
    niamey = {g["label"]: g for g in review["groups"]["mentions"] if g["text"] == "Niamey"}
    assert sorted(niamey) == ["GPE", "LOC"]
    assert (niamey["GPE"]["annotators"], niamey["GPE"]["disagreements"]) == (["annotator1"], ["label", "missing"])


def test_an_article_nobody_annotated_opens_with_nothing_to_compare(setup):
    article = ArticleFactory(project=setup.project)

    response = logged_in(setup.users["reviewer"]).get(
        reverse("admin:workspace_review", args=[setup.project.slug, article.pk])
    )

    review = page_data(response)["review"]
    assert (review["stage"], review["annotators"], review["groups"]["mentions"]) == ("unassigned", [], [])
    assert page_data(response)["layer"] is None  # the page creates the (empty) gold layer


def test_the_state_view_returns_the_gold_layer_and_the_comparison(setup):
    Project.objects.filter(pk=setup.project.pk).update(merge_strategy="none")
    client = logged_in(setup.users["reviewer"])
    gold = layer_gold(article=setup.first)
    url = reverse("admin:workspace_review_state", args=[setup.project.slug, setup.first.pk])

    state = client.get(url).json()

    assert (state["layer"]["id"], state["layer"]["version"]) == (gold.pk, gold.version)
    assert state["review"]["gold"]["id"] == gold.pk
    assert state["review"]["summary"]["mentions"]["in_gold"] == 0


def test_the_annotate_page_keeps_its_annotate_mode(setup):
    layer = setup.layers["annotator1"][0]
    url = reverse("admin:workspace_layer", args=[setup.project.slug, layer.pk])

    data = page_data(logged_in(setup.users["annotator1"]).get(url))

    assert data["mode"] == "annotate"
    assert data["layer"]["id"] == layer.pk


def test_the_article_title_and_text_are_escaped(db):
    project = ProjectFactory(slug="xss")
    reviewer = UserFactory(username="rev-xss", is_staff=True)
    MembershipFactory(project=project, user=reviewer, role=Membership.Role.REVIEWER)
    article = ArticleFactory(project=project, title=f"Title {XSS}", text=f"Russia said {XSS} today.")

    response = logged_in(reviewer).get(reverse("admin:workspace_review", args=[project.slug, article.pk]))

    body = response.content.decode()
    assert "<script>alert(1)" not in body
    assert "<img src=x onerror" not in body
    assert "Title &lt;script&gt;alert(1)&lt;/script&gt;" in body
    data = page_data(response)
    assert data["article"]["text"] == article.text
    assert data["review"]["article"]["title"] == article.title


# --- The review queue ----------------------------------------------------------------------------


def queue_rows(response) -> list[tuple[int, str]]:
    """(article id, stage) of each row of the queue table."""
    return [
        (int(article), stage)
        for stage, article in re.findall(
            r'<tr class="wb-queue-row" data-stage="(\w+)" data-article="(\d+)">', response.content.decode()
        )
    ]


def test_the_queue_lists_the_annotated_articles_awaiting_adjudication_by_default(setup):
    gold = layer_gold(article=setup.articles[1])
    layer_set_status(layer=gold, status=Layer.Status.ADJUDICATED, by=setup.users["reviewer"])

    response = logged_in(setup.users["reviewer"]).get(reverse("admin:workspace_review_queue"))

    assert response.status_code == 200
    expected = [a.pk for i, a in enumerate(setup.articles) if i != 1]
    assert queue_rows(response) == [(pk, "annotated") for pk in expected]
    body = response.content.decode()
    assert "Annotated by 2" in body
    assert reverse("admin:workspace_review", args=[setup.project.slug, setup.first.pk]) in body


def test_the_queue_filters_by_stage_and_project(setup):
    gold = layer_gold(article=setup.articles[1])
    layer_set_status(layer=gold, status=Layer.Status.ADJUDICATED, by=setup.users["reviewer"])
    Layer.objects.filter(pk=setup.layers["annotator2"][2].pk).update(status=Layer.Status.IN_PROGRESS)
    other = ProjectFactory(slug="other")
    MembershipFactory(project=other, user=setup.users["reviewer"], role=Membership.Role.REVIEWER)
    unassigned = ArticleFactory(project=other)
    client = logged_in(setup.users["reviewer"])
    url = reverse("admin:workspace_review_queue")

    assert queue_rows(client.get(url, {"stage": "adjudicated"})) == [(setup.articles[1].pk, "adjudicated")]
    assert queue_rows(client.get(url, {"stage": "assigned"})) == [(setup.articles[2].pk, "assigned")]
    assert queue_rows(client.get(url, {"stage": "unassigned"})) == [(unassigned.pk, "unassigned")]
    everything = queue_rows(client.get(url, {"stage": "all"}))
    assert len(everything) == 6
    only_niger = queue_rows(client.get(url, {"stage": "all", "project": setup.project.slug}))
    assert [pk for pk, _ in only_niger] == [a.pk for a in setup.articles]


def test_the_queue_links_the_agreement_page_of_each_reviewed_project(setup):
    body = logged_in(setup.users["reviewer"]).get(reverse("admin:workspace_review_queue")).content.decode()
    agreement = reverse("admin:workspace_agreement", args=[setup.project.slug])
    assert f'<a href="{agreement}">' in body
    assert logged_in(setup.users["reviewer"]).get(agreement).status_code == 200


def test_the_queue_shows_only_projects_the_user_reviews(setup):
    response = logged_in(setup.users["annotator1"]).get(reverse("admin:workspace_review_queue"))

    assert queue_rows(response) == []
    assert "You review no project" in response.content.decode()


def test_the_admin_index_links_the_review_queue_for_reviewers_only(setup):
    link = f'href="{reverse("admin:workspace_review_queue")}"'

    assert link in logged_in(setup.users["reviewer"]).get(reverse("admin:index")).content.decode()
    assert link in logged_in(setup.users["manager"]).get(reverse("admin:index")).content.decode()
    assert link not in logged_in(setup.users["annotator1"]).get(reverse("admin:index")).content.decode()


def test_the_queue_reads_a_page_in_the_same_number_of_queries_however_many_articles(setup):
    client = logged_in(setup.users["reviewer"])
    url = reverse("admin:workspace_review_queue")
    client.get(url)  # session and user warmed up

    def queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, {"stage": "all"})
        return len(captured), len(queue_rows(response))

    few = queries()
    for article in setup.articles:
        layer_gold(article=article)
        ArticleFactory(project=setup.project)
    many = queries()

    assert (few[1], many[1]) == (5, 10)
    assert many[0] == few[0]
