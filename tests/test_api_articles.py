"""Articles over the API: list with filters and pagination, detail, JSON Lines import."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotations.models import Article, Layer
from annotations.services.layers import layer_for_annotator, layer_gold, layer_set_status
from tests.factories import ArticleFactory, ProjectFactory
from tests.test_api_helpers import ROLES, add_mention, client_for, member, url

pytestmark = pytest.mark.django_db


def ids(response) -> list[int]:
    return [article["id"] for article in response.data["results"]]


# --- List and filters -----------------------------------------------------------------------


def test_article_list_is_paginated_without_the_text(project):
    articles = ArticleFactory.create_batch(3, project=project)
    client = client_for(member(project, ROLES.CONSUMER))

    first = client.get(url(project, "articles/?page_size=2"))
    second = client.get(first.data["next"])

    assert first.status_code == 200
    assert first.data["count"] == 3
    assert ids(first) + ids(second) == [a.pk for a in articles]
    assert "text" not in first.data["results"][0]


def test_article_detail_has_the_text_and_readable_layers(project, article):
    gold = layer_gold(article=article)
    client = client_for(member(project, ROLES.REVIEWER))

    response = client.get(url(project, f"articles/{article.pk}/"))

    assert response.status_code == 200
    assert response.data["text"] == article.text
    assert response.data["has_gold"] is True
    assert [layer["id"] for layer in response.data["layers"]] == [gold.pk]


def test_q_searches_title_and_text_case_insensitively(project):
    by_title = ArticleFactory(project=project, title="Wagner in Mali")
    by_text = ArticleFactory(project=project, text="Fighters of the WAGNER group arrived in Bamako.")
    ArticleFactory(project=project)
    client = client_for(member(project, ROLES.MANAGER))

    response = client.get(url(project, "articles/?q=wagner"))

    assert ids(response) == [by_title.pk, by_text.pk]


def test_has_gold_filter(project):
    with_gold, without = ArticleFactory.create_batch(2, project=project)
    layer_gold(article=with_gold)
    client = client_for(member(project, ROLES.MANAGER))

    assert ids(client.get(url(project, "articles/?has_gold=true"))) == [with_gold.pk]
    assert ids(client.get(url(project, "articles/?has_gold=false"))) == [without.pk]


def test_annotator_filter_and_status_of_that_annotators_layer(project):
    first, second, third = ArticleFactory.create_batch(3, project=project)
    alice = member(project, ROLES.ANNOTATOR, "alice")
    bob = member(project, ROLES.ANNOTATOR, "bob")
    add_mention(layer_for_annotator(article=first, annotator=alice), "Russia", "GPE")  # in progress
    layer_for_annotator(article=second, annotator=alice)  # not started
    add_mention(layer_for_annotator(article=third, annotator=bob), "Russia", "GPE")
    client = client_for(member(project, ROLES.MANAGER))

    assert ids(client.get(url(project, "articles/?annotator=alice"))) == [first.pk, second.pk]
    assert ids(client.get(url(project, "articles/?annotator=alice&status=in_progress"))) == [first.pk]
    assert ids(client.get(url(project, "articles/?annotator=alice&status=not_started"))) == [second.pk]
    # Without `annotator`, a manager's status filter looks at any annotator's layer.
    assert ids(client.get(url(project, "articles/?status=in_progress"))) == [first.pk, third.pk]


def test_status_filter_of_an_annotator_looks_at_their_own_layer(project):
    done, started, untouched = ArticleFactory.create_batch(3, project=project)
    me = member(project, ROLES.ANNOTATOR, "me")
    other = member(project, ROLES.ANNOTATOR, "other")
    mine = layer_for_annotator(article=done, annotator=me)
    add_mention(mine, "Russia", "GPE")
    layer_set_status(layer=mine, status=Layer.Status.DONE)
    add_mention(layer_for_annotator(article=started, annotator=me), "Russia", "GPE")
    add_mention(layer_for_annotator(article=untouched, annotator=other), "Russia", "GPE")  # someone else's
    client = client_for(me)

    assert ids(client.get(url(project, "articles/?status=done"))) == [done.pk]
    assert ids(client.get(url(project, "articles/?status=in_progress"))) == [started.pk]
    # Not started (by me) includes the articles where I have no layer yet.
    assert ids(client.get(url(project, "articles/?status=not_started"))) == [untouched.pk]


def test_status_adjudicated_looks_at_the_gold_layer(project):
    adjudicated, open_gold = ArticleFactory.create_batch(2, project=project)
    gold = layer_gold(article=adjudicated)
    add_mention(gold, "Russia", "GPE")
    layer_set_status(layer=gold, status=Layer.Status.ADJUDICATED)
    layer_gold(article=open_gold)
    client = client_for(member(project, ROLES.REVIEWER))

    assert ids(client.get(url(project, "articles/?status=adjudicated"))) == [adjudicated.pk]


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("has_gold=maybe", "has_gold", "must be true or false, not 'maybe'"),
        (
            "status=bogus",
            "status",
            "unknown layer status 'bogus'; allowed: not_started, in_progress, done, adjudicated",
        ),
        ("annotator=nobody", "annotator", "no annotator 'nobody' whose layers you may read in this project"),
    ],
)
def test_malformed_filter_is_400_naming_the_parameter(project, query, field, message):
    client = client_for(member(project, ROLES.MANAGER))

    response = client.get(url(project, f"articles/?{query}"))

    assert response.status_code == 400
    assert response.data["errors"] == {field: [message]}


def project_with_articles(count: int):
    """`count` articles, each with two annotators' layers (one with a mention) and a gold layer."""
    project = ProjectFactory()
    alice = member(project, ROLES.ANNOTATOR)
    bob = member(project, ROLES.ANNOTATOR)
    for article in ArticleFactory.create_batch(count, project=project):
        add_mention(layer_for_annotator(article=article, annotator=alice), "Russia", "GPE")
        layer_for_annotator(article=article, annotator=bob)
        layer_gold(article=article)
    return project, member(project, ROLES.REVIEWER)


def test_article_list_takes_the_same_number_of_queries_for_3_or_30_articles(django_assert_max_num_queries):
    small, small_reader = project_with_articles(3)
    large, large_reader = project_with_articles(30)
    query = "articles/?status=in_progress&has_gold=true&q=russia"
    with CaptureQueriesContext(connection) as baseline:
        response = client_for(small_reader, token=True).get(url(small, query))
    assert len(response.data["results"]) == 3

    with django_assert_max_num_queries(len(baseline)):
        response = client_for(large_reader, token=True).get(url(large, query))

    assert len(response.data["results"]) == 30
    assert all(len(article["layers"]) == 3 for article in response.data["results"])


# --- Import ---------------------------------------------------------------------------------


def jsonl(*records: object) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


@pytest.fixture
def manager_client(project):
    return client_for(member(project, ROLES.MANAGER))


def test_import_a_jsonl_upload_reports_imported_and_duplicates(project, manager_client):
    existing = ArticleFactory(project=project, title="Already here")
    upload = SimpleUploadedFile(
        "batch.jsonl",
        jsonl(
            {"title": "Junta ends cooperation", "text": "The junta ended its military cooperation with the USA."},
            {"title": "Copy", "text": existing.text},
            {"title": "Visit", "text": "Yevkurov visited Niamey.", "published": "2024-01-20", "source": "TASS"},
        ),
        content_type="application/x-ndjson",
    )

    response = manager_client.post(url(project, "articles/import/"), {"file": upload}, format="multipart")

    assert response.status_code == 201
    assert (response.data["imported"], response.data["duplicates"]) == (2, ["Copy"])
    visit = Article.objects.get(title="Visit")
    assert (visit.source, str(visit.published), visit.imported_from) == ("TASS", "2024-01-20", "api:batch.jsonl")
    assert sorted(response.data["articles"]) == sorted(
        Article.objects.exclude(pk=existing.pk).values_list("pk", flat=True)
    )


def test_import_a_raw_ndjson_body(project, manager_client):
    body = jsonl({"title": "One", "text": "First text."}, {"title": "Two", "text": "Second text."})

    response = manager_client.post(url(project, "articles/import/"), body, content_type="application/x-ndjson")

    assert response.status_code == 201
    assert response.data["imported"] == 2
    assert sorted(Article.objects.values_list("title", flat=True)) == ["One", "Two"]


def test_import_with_a_bad_line_imports_nothing_and_names_every_line(project, manager_client):
    body = (
        jsonl({"title": "Fine", "text": "A fine article."})
        + b"{not json\n"
        + jsonl({"text": "no title"}, {"title": "Bad date", "text": "Text.", "published": "yesterday"})
    )
    upload = SimpleUploadedFile("news.jsonl", body)

    response = manager_client.post(url(project, "articles/import/"), {"file": upload}, format="multipart")

    assert response.status_code == 400
    assert response.data["errors"] == {
        "file": [
            "news.jsonl:2: malformed JSON (Expecting property name enclosed in double quotes at column 2)",
            "news.jsonl:3: missing required field 'title'",
            "news.jsonl:4: field 'published' is not an ISO date (YYYY-MM-DD): 'yesterday'",
        ]
    }
    assert response.data["detail"] == "nothing was imported: 3 error(s) in the file"
    assert Article.objects.count() == 0


def test_import_of_a_text_with_a_nul_character_is_400_naming_line_and_field(project, manager_client):
    body = jsonl({"title": "Fine", "text": "A fine article."}, {"title": "NUL", "text": "Sent\x00 to Niger."})

    response = manager_client.post(url(project, "articles/import/"), body, content_type="application/x-ndjson")

    assert response.status_code == 400
    assert response.data["errors"]["file"] == [
        "request body:2: text contains a NUL character (U+0000), which the database can't store"
    ]
    assert Article.objects.count() == 0


def test_import_without_a_file_is_400_naming_file(project, manager_client):
    response = manager_client.post(url(project, "articles/import/"), {}, format="multipart")
    empty = manager_client.post(url(project, "articles/import/"), b"", content_type="application/x-ndjson")

    message = "send a JSON Lines file as the multipart field 'file', or the body as application/x-ndjson"
    assert (response.status_code, response.data["errors"]) == (400, {"file": [message]})
    assert (empty.status_code, empty.data["errors"]) == (400, {"file": [message]})


def test_import_needs_a_manager(project):
    reviewer = client_for(member(project, ROLES.REVIEWER))

    response = reviewer.post(
        url(project, "articles/import/"), jsonl({"title": "x", "text": "y"}), content_type="application/x-ndjson"
    )

    assert response.status_code == 403
    assert Article.objects.count() == 0
