"""Searching a project's articles (annotations/search.py) over the API and on My queue.

Runs on SQLite (substring search) and on PostgreSQL (full-text search); the tests that only
PostgreSQL's full text can pass say so."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from annotations.models import Layer
from annotations.services.items import event_create
from annotations.services.layers import layer_for_annotator, layer_gold
from tests.conftest import require_service
from tests.factories import ArticleFactory, ProjectFactory
from tests.test_api_helpers import ROLES, add_mention, client_for, member, url

pytestmark = pytest.mark.django_db

SANCTIONS = "The junta imposed sanctions on France. Russia sent trainers to Niger."
TALKS = "Niger and Russia held talks in Niamey about military cooperation."
OTHER = "Mali hosted a summit of the Sahel states in Bamako."


@pytest.fixture
def corpus(project):
    """Three articles; ann1 annotated the first two, ann2 the third."""
    ann1, ann2 = member(project, ROLES.ANNOTATOR, "ann1"), member(project, ROLES.ANNOTATOR, "ann2")
    sanctions = ArticleFactory(project=project, title="Sanctions", text=SANCTIONS)
    talks = ArticleFactory(project=project, title="Talks", text=TALKS)
    other = ArticleFactory(project=project, title="Summit", text=OTHER)
    mine = layer_for_annotator(article=sanctions, annotator=ann1)
    russia = add_mention(mine, "Russia", "GPE")
    start = SANCTIONS.index("sent")
    event_create(
        layer=mine, event_type="AID", trigger_start=start, trigger_end=start + 4, arguments=[("actor", russia.pk)]
    )
    talks_layer = layer_for_annotator(article=talks, annotator=ann1)
    add_mention(talks_layer, "Niamey", "GPE")
    start = TALKS.index("talks")
    event_create(layer=talks_layer, event_type="CONSULT", trigger_start=start, trigger_end=start + 5)  # no actor
    theirs = layer_for_annotator(article=other, annotator=ann2)
    add_mention(theirs, "Bamako", "GPE")
    start = OTHER.index("summit")
    event_create(layer=theirs, event_type="CONSULT", trigger_start=start, trigger_end=start + 6, not_stated=["actor"])
    return {"ann1": ann1, "ann2": ann2, "sanctions": sanctions, "talks": talks, "other": other}


def found(client, project, query: str) -> list[str]:
    response = client.get(url(project, f"articles/?{query}"))
    assert response.status_code == 200, response.data
    return [article["title"] for article in response.data["results"]]


def test_q_finds_a_word_in_the_text_or_the_title(project, corpus):
    reviewer = client_for(member(project, ROLES.REVIEWER))

    assert found(reviewer, project, "q=niamey") == ["Talks"]
    assert found(reviewer, project, "q=Summit") == ["Summit"]


def test_q_on_postgresql_is_full_text_with_stemming_and_web_search_syntax(project, corpus):
    require_service(connection.vendor == "postgresql", "PostgreSQL (full-text search)")
    reviewer = client_for(member(project, ROLES.REVIEWER))

    assert found(reviewer, project, "q=sanction") == ["Sanctions"]  # stemmed: sanctions
    assert found(reviewer, project, "q=niger -talks") == ["Sanctions"]
    assert found(reviewer, project, 'q="military cooperation"') == ["Talks"]


def test_what_the_layers_hold_filters_the_list(project, corpus):
    reviewer = client_for(member(project, ROLES.REVIEWER))

    assert found(reviewer, project, "mention_text=russ") == ["Sanctions"]
    assert found(reviewer, project, "label=GPE") == ["Sanctions", "Talks", "Summit"]
    assert found(reviewer, project, "event_type=CONSULT") == ["Talks", "Summit"]
    assert found(reviewer, project, "event_type=CONSULT&mention_text=bamako") == ["Summit"]
    assert found(reviewer, project, "label=PERSON") == []


def test_incomplete_honours_roles_not_stated(project, corpus):
    reviewer = client_for(member(project, ROLES.REVIEWER))

    assert found(reviewer, project, "incomplete=true") == ["Talks"]
    assert found(reviewer, project, "incomplete=false") == ["Sanctions", "Summit"]


def test_an_annotator_searches_their_own_layers_only(project, corpus):
    ann2 = client_for(corpus["ann2"])

    assert found(ann2, project, "label=GPE") == ["Summit"]
    assert found(ann2, project, "incomplete=true") == []
    assert found(client_for(corpus["ann1"]), project, "event_type=CONSULT") == ["Talks"]


def test_the_gold_layer_is_searched_for_reviewers_and_annotator_narrows_it(project, corpus):
    gold = layer_gold(article=corpus["other"])
    add_mention(gold, "Mali", "GPE")
    reviewer = client_for(member(project, ROLES.REVIEWER))

    assert found(reviewer, project, "mention_text=mali") == ["Summit"]
    assert found(reviewer, project, "mention_text=mali&annotator=ann2") == []


def test_search_combines_with_status(project, corpus):
    Layer.objects.filter(article=corpus["talks"]).update(status=Layer.Status.DONE)
    ann1 = client_for(corpus["ann1"])

    assert found(ann1, project, "status=done&label=GPE") == ["Talks"]


def test_a_bad_incomplete_is_400_naming_it(project, corpus):
    response = client_for(member(project, ROLES.REVIEWER)).get(url(project, "articles/?incomplete=maybe"))

    assert response.status_code == 400
    assert "incomplete" in response.data["errors"]


def test_other_projects_articles_are_never_found(project, corpus):
    elsewhere = ProjectFactory(slug="elsewhere")
    ArticleFactory(project=elsewhere, title="Niamey elsewhere", text=TALKS)
    reviewer = client_for(member(project, ROLES.REVIEWER))

    assert found(reviewer, project, "q=niamey") == ["Talks"]
    assert client_for(member(elsewhere, ROLES.ANNOTATOR)).get(url(project, "articles/?q=niamey")).status_code == 404


# --- My queue ---------------------------------------------------------------------------------


def test_my_queue_takes_the_same_search(client, project, corpus):
    ann1 = corpus["ann1"]
    ann1.is_staff = True
    ann1.save()
    client.force_login(ann1)
    queue = reverse("admin:workspace_queue")

    def titles(**query: str) -> list[str]:
        response = client.get(queue, query)
        assert response.status_code == 200
        return [layer.article.title for layer in response.context["rows"]]

    assert titles() == ["Sanctions", "Talks"]
    assert titles(q="niamey") == ["Talks"]
    assert titles(mention_text="russ") == ["Sanctions"]
    assert titles(label="GPE", event_type="AID") == ["Sanctions"]
    assert titles(incomplete="true") == ["Talks"]
    assert titles(q="bamako") == []  # ann2's article is not in ann1's queue
    body = client.get(queue, {"q": "niamey"}).content.decode()
    assert 'name="q" value="niamey"' in body
