"""The annotator workspace in the admin: My queue, the annotate page and its data, access rules,
escaping, CSRF on the API it saves through, guidelines and actor search. (What the page does in
a browser is tested in tests/browser/.)"""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from annotations.admin.workspace_data import token_offsets
from annotations.models import Layer, Membership, SuggestionDecision
from annotations.services.assignment import articles_assign
from tests.factories import ActorFactory, ArticleFactory, MembershipFactory, ProjectFactory, UserFactory
from tests.test_api_helpers import machine_layer

pytestmark = pytest.mark.django_db

XSS = "<script>alert(1)</script> and <img src=x onerror=alert(1)>"


def staff_member(project, username: str, role: str = Membership.Role.ANNOTATOR):
    user = UserFactory(username=username, is_staff=True)
    MembershipFactory(project=project, user=user, role=role)
    return user


def page_data(response) -> dict:
    match = re.search(r'<script id="wb-data" type="application/json">(.*?)</script>', response.content.decode(), re.S)
    assert match, "the page embeds its data with json_script"
    return json.loads(match.group(1))


@pytest.fixture
def project(db):
    return ProjectFactory(slug="niger", overlap=1, guidelines="# Guidelines\n\nLabel **every** actor. <b>raw</b>")


@pytest.fixture
def me(project):
    return staff_member(project, "ann1")


@pytest.fixture
def browser(client, me):
    client.force_login(me)
    return client


@pytest.fixture
def layer(project, me):
    article = ArticleFactory(project=project, title="Russia sends trainers")
    return Layer.objects.create(article=article, kind=Layer.Kind.ANNOTATOR, annotator=me)


def layer_url(layer: Layer) -> str:
    return reverse("admin:workspace_layer", args=[layer.article.project.slug, layer.pk])


# --- Queue and admin index -------------------------------------------------------------------


def test_the_admin_index_links_to_my_queue(browser):
    response = browser.get(reverse("admin:index"))

    assert response.status_code == 200
    assert f'href="{reverse("admin:workspace_queue")}"' in response.content.decode()


def test_the_queue_lists_my_assigned_articles_with_status_and_counts(browser, project, me):
    other = staff_member(project, "ann2")
    articles = [ArticleFactory(project=project, title=f"Report {i}") for i in range(3)]
    articles_assign(project=project, overlap=2)
    mine = Layer.objects.filter(annotator=me).order_by("article_id")
    Layer.objects.filter(pk=mine[2].pk).update(status=Layer.Status.DONE)

    response = browser.get(reverse("admin:workspace_queue"))

    body = response.content.decode()
    assert response.status_code == 200
    rows = re.findall(r'<tr class="wb-queue-row" data-status="(\w+)">', body)
    assert rows == ["not_started", "not_started", "done"]
    for layer in mine:
        assert layer_url(layer) in body
    assert not any(layer_url(layer) in body for layer in Layer.objects.filter(annotator=other))
    assert "All (3)" in body
    assert f"Continue with “{articles[0].title}”" in body

    only_done = browser.get(reverse("admin:workspace_queue") + "?status=done")
    assert re.findall(r'data-status="(\w+)"', only_done.content.decode()) == ["done"]


def test_the_queue_needs_a_staff_login(client):
    response = client.get(reverse("admin:workspace_queue"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


# --- The annotate page ----------------------------------------------------------------------------


def test_the_annotate_page_is_an_admin_page_with_the_article_schema_and_layer(browser, layer, project):
    machine = machine_layer(layer.article)
    niger = machine.mentions.get(text="Niger")
    SuggestionDecision.objects.create(
        layer=layer,
        user=layer.annotator,
        item_kind="mention",
        decision="reject",
        model_version=machine.model_version,
        suggestion_id=niger.pk,
        label="GPE",
        suggestion={},
    )

    response = browser.get(layer_url(layer))

    assert response.status_code == 200
    body = response.content.decode()
    assert '<script type="module" src="/static/workspace/main.js"></script>' in body
    assert 'id="site-name"' in body  # the admin's header and navigation
    data = page_data(response)
    assert data["article"]["text"] == layer.article.text
    assert data["layer"]["id"] == layer.pk and data["layer"]["version"] == 1
    assert data["machine"]["model_version"] == "spacy-test-1"
    assert len(data["machine"]["mentions"]) == 4
    assert data["decided"] == [f"mention:{niger.pk}"]
    assert [e["code"] for e in data["schema"]["entity_types"]][:3] == ["PERSON", "ORG", "GPE"]
    assert data["urls"]["api"] == f"/api/v1/projects/{project.slug}/"
    assert data["urls"]["guidelines"] == reverse("admin:workspace_guidelines", args=[project.slug]) + "?language=en"
    assert data["article"]["language"] == "en"
    assert data["tokens"][:4] == [0, 6, 7, 10]  # "Russia", "has"
    assert data["csrf_token"]


def test_previous_and_next_follow_the_queue(browser, project, me):
    articles = [ArticleFactory(project=project) for _ in range(3)]
    articles_assign(project=project)
    first, middle, last = Layer.objects.filter(annotator=me).order_by("article_id")

    data = page_data(browser.get(layer_url(middle)))

    assert (data["urls"]["previous"], data["urls"]["next"]) == (layer_url(first), layer_url(last))
    assert page_data(browser.get(layer_url(first)))["urls"]["previous"] is None
    assert len(articles) == 3


def test_the_page_says_where_the_article_stands_in_my_queue(browser, project, me):
    # given four articles of mine, two of them done, and one in another project
    for _ in range(4):
        ArticleFactory(project=project)
    articles_assign(project=project)
    mine = list(Layer.objects.filter(annotator=me).order_by("article_id"))
    Layer.objects.filter(pk__in=[mine[0].pk, mine[3].pk]).update(status=Layer.Status.DONE)
    elsewhere = ProjectFactory(slug="sahel")
    MembershipFactory(project=elsewhere, user=me, role=Membership.Role.ANNOTATOR)
    Layer.objects.create(article=ArticleFactory(project=elsewhere), kind=Layer.Kind.ANNOTATOR, annotator=me)

    data = page_data(browser.get(layer_url(mine[2])))

    assert data["progress"] == {"position": 3, "queue_size": 4, "done": 2}


def test_article_text_and_title_are_escaped(browser, project, me):
    article = ArticleFactory(project=project, title=XSS, text=f"Russia said {XSS} today.")
    layer = Layer.objects.create(article=article, kind=Layer.Kind.ANNOTATOR, annotator=me)

    response = browser.get(layer_url(layer))

    body = response.content.decode()
    assert "<script>alert(1)" not in body
    assert "<img src=x onerror" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body  # the title, autoescaped
    assert page_data(response)["article"]["text"] == article.text  # json_script: \u003C… in the page


def test_opening_an_article_is_a_post_that_gets_or_creates_my_layer(browser, project, me):
    article = ArticleFactory(project=project)
    url = reverse("admin:workspace_article", args=[project.slug, article.pk])

    first = browser.post(url)
    second = browser.post(url)

    layer = Layer.objects.get(article=article, annotator=me, kind=Layer.Kind.ANNOTATOR)
    assert first.status_code == second.status_code == 302
    assert first.url == second.url == layer_url(layer)


def test_a_get_of_an_article_shows_a_button_and_creates_no_layer(browser, project, me):
    article = ArticleFactory(project=project)
    url = reverse("admin:workspace_article", args=[project.slug, article.pk])

    response = browser.get(url)

    assert response.status_code == 200
    assert not Layer.objects.filter(article=article).exists()
    body = response.content.decode()
    assert '<form method="post" id="wb-open-article">' in body
    assert 'name="csrfmiddlewaretoken"' in body


def test_a_get_of_an_article_with_my_layer_redirects_to_it(browser, project, me):
    article = ArticleFactory(project=project)
    layer = Layer.objects.create(article=article, kind=Layer.Kind.ANNOTATOR, annotator=me)

    response = browser.get(reverse("admin:workspace_article", args=[project.slug, article.pk]))

    assert (response.status_code, response.url) == (302, layer_url(layer))
    assert Layer.objects.filter(article=article).count() == 1


def test_another_annotators_layer_is_forbidden(browser, project):
    other = staff_member(project, "ann2")
    theirs = Layer.objects.create(article=ArticleFactory(project=project), kind=Layer.Kind.ANNOTATOR, annotator=other)

    assert browser.get(layer_url(theirs)).status_code == 403
    state = reverse("admin:workspace_layer_state", args=[project.slug, theirs.pk])
    assert browser.get(state).status_code == 403


def test_a_project_i_am_not_in_is_not_found(browser):
    elsewhere = ProjectFactory(slug="elsewhere")
    owner = UserFactory()
    theirs = Layer.objects.create(article=ArticleFactory(project=elsewhere), kind=Layer.Kind.ANNOTATOR, annotator=owner)

    assert browser.get(layer_url(theirs)).status_code == 404
    assert browser.get(reverse("admin:workspace_article", args=[elsewhere.slug, theirs.article_id])).status_code == 404
    assert browser.post(reverse("admin:workspace_article", args=[elsewhere.slug, theirs.article_id])).status_code == 404
    assert browser.get(reverse("admin:workspace_guidelines", args=[elsewhere.slug])).status_code == 404
    assert browser.get(reverse("admin:workspace_actors", args=[elsewhere.slug])).status_code == 404


def test_a_layer_named_under_another_project_is_not_found(browser, layer):
    other = ProjectFactory(slug="other")
    MembershipFactory(project=other, user=layer.annotator)

    assert browser.get(reverse("admin:workspace_layer", args=[other.slug, layer.pk])).status_code == 404


def test_gold_and_machine_layers_are_not_opened_in_the_workspace(browser, layer):
    machine = machine_layer(layer.article)

    assert browser.get(layer_url(machine)).status_code == 404


def test_consumers_cannot_annotate(client, project):
    consumer = staff_member(project, "ml-person", Membership.Role.CONSUMER)
    client.force_login(consumer)
    article = ArticleFactory(project=project)

    url = reverse("admin:workspace_article", args=[project.slug, article.pk])

    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403
    assert not Layer.objects.filter(article=article).exists()


def test_a_manager_may_open_an_annotators_layer(client, project, layer):
    manager = staff_member(project, "lead", Membership.Role.MANAGER)
    client.force_login(manager)

    assert client.get(layer_url(layer)).status_code == 200


def test_the_state_endpoint_reloads_layer_suggestions_and_decisions(browser, layer):
    machine_layer(layer.article)

    response = browser.get(reverse("admin:workspace_layer_state", args=[layer.article.project.slug, layer.pk]))

    data = response.json()
    assert (data["layer"]["id"], data["layer"]["version"], data["decided"]) == (layer.pk, 1, [])
    assert {m["text"] for m in data["machine"]["mentions"]} == {"Russia", "Niger", "Niamey", "Salifou Modi"}


# --- Saving goes through the API, with CSRF ------------------------------------------------------


def test_the_api_refuses_a_session_write_without_the_csrf_token_and_accepts_the_pages_token(layer):
    client = Client(enforce_csrf_checks=True)
    client.force_login(layer.annotator)
    url = f"/api/v1/projects/{layer.article.project.slug}/layers/{layer.pk}/mentions/"
    body = json.dumps({"version": 1, "label": "GPE", "start": 0, "end": 6, "text": "Russia"})

    refused = client.post(url, body, content_type="application/json")

    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    token = page_data(client.get(layer_url(layer)))["csrf_token"]
    accepted = client.post(url, body, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 201
    assert accepted.json()["layer_version"] == 2


# --- Guidelines and actors -------------------------------------------------------------------------


def test_guidelines_render_markdown_with_raw_html_escaped(browser, project):
    response = browser.get(reverse("admin:workspace_guidelines", args=[project.slug]))

    body = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Guidelines</h1>" in body
    assert "<strong>every</strong>" in body
    assert "<b>raw</b>" not in body
    assert "&lt;b&gt;raw&lt;/b&gt;" in body
    assert "SEIZE_POWER" in body  # the schema is the reference too


def test_actor_search_finds_by_name_and_alias(browser, project):
    ActorFactory(name="Russia", aliases=["Russian Federation"], kind="GPE", country="RUS")
    ActorFactory(name="Wagner Group", aliases=["PMC Wagner"], kind="ORG")
    url = reverse("admin:workspace_actors", args=[project.slug])

    by_name = browser.get(url, {"q": "russ"}).json()["results"]
    by_alias = browser.get(url, {"q": "pmc"}).json()["results"]

    assert [a["name"] for a in by_name] == ["Russia"]
    assert (by_name[0]["kind"], by_name[0]["country"]) == ("GPE", "RUS")
    assert [a["name"] for a in by_alias] == ["Wagner Group"]


def test_actor_search_with_a_kind_lists_that_kind_first(browser, project):
    ActorFactory(name="Niger Delta Avengers", aliases=[], kind="ORG")
    ActorFactory(name="Niger", aliases=["Republic of the Niger"], kind="GPE", country="NER")
    ActorFactory(name="Nigeria", aliases=[], kind="GPE", country="NGA")
    url = reverse("admin:workspace_actors", args=[project.slug])

    response = browser.get(url, {"q": "Niger", "kind": "GPE"})
    as_org = browser.get(url, {"q": "Niger", "kind": "ORG"}).json()["results"]

    assert response.status_code == 200
    assert [a["name"] for a in response.json()["results"]] == ["Niger", "Nigeria", "Niger Delta Avengers"]
    assert [a["name"] for a in as_org] == ["Niger Delta Avengers", "Niger", "Nigeria"]


def test_token_offsets_are_code_points_of_words_and_punctuation():
    assert token_offsets("Niger's junta, 2023 🙂 ok") == [0, 5, 5, 6, 6, 7, 8, 13, 13, 14, 15, 19, 20, 21, 22, 24]


def test_french_token_offsets_keep_elisions_with_their_apostrophe():
    text = "L’armée s’est retirée aujourd’hui, jusqu’à Niamey."
    pieces = token_offsets(text, "fr")
    words = [text[pieces[i] : pieces[i + 1]] for i in range(0, len(pieces), 2)]

    assert words == ["L’", "armée", "s’", "est", "retirée", "aujourd’hui", ",", "jusqu’", "à", "Niamey", "."]
    # English rules (and unknown languages) keep words and punctuation marks apart
    assert token_offsets("l’armée", "en") == token_offsets("l’armée", "und") == [0, 1, 1, 2, 2, 7]


def test_the_annotate_page_shows_a_french_articles_language_and_snaps_to_french_tokens(browser, project, me):
    article = ArticleFactory(project=project, title="Retrait", text="L’armée française quitte le Niger.", language="fr")
    layer = Layer.objects.create(article=article, kind=Layer.Kind.ANNOTATOR, annotator=me)

    response = browser.get(layer_url(layer))

    data = page_data(response)
    assert data["article"]["language"] == "fr"
    assert data["tokens"][:4] == [0, 2, 2, 7]  # "L’", "armée"
    assert data["urls"]["guidelines"].endswith("?language=fr")
    assert re.search(r'id="wb-language"[^>]*lang="fr"[^>]*>FR</span>', response.content.decode())


GUIDELINES = """# Guidelines

Label **every** actor.

## fr

Ne pas inclure l’article élidé : « l’armée » → *armée*.

## en

Leave out a leading "the".

## Events

Triggers are single words.
"""


def test_guidelines_show_only_the_notes_for_the_articles_language(browser, project):
    project.guidelines = GUIDELINES
    project.save()
    url = reverse("admin:workspace_guidelines", args=[project.slug])

    french = browser.get(url, {"language": "fr"}).content.decode()
    english = browser.get(url, {"language": "en"}).content.decode()
    every = browser.get(url).content.decode()

    assert "Notes for articles in fr" in french and "élidé" in french and "leading" not in french
    assert "Notes for articles in en" in english and "leading" in english and "élidé" not in english
    assert "Triggers are single words" in french and "Triggers are single words" in english
    assert "élidé" in every and "leading" in every
