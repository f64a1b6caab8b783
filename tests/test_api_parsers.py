"""Bounds on what a request may send (api/parsers.py, the import view, the article checks).

A body nested a thousand levels deep, a lone surrogate, a 10 MB metadata object or an oversized
upload each get a 400 or a 413 that names what is wrong, never a 500, and nothing is stored.
"""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from annotations.models import Article, Job
from annotations.services.layers import layer_for_annotator
from tests.test_api_helpers import ROLES, client_for, member, url

pytestmark = pytest.mark.django_db

DEEP = "[" * 1000 + "]" * 1000


@pytest.fixture
def manager_client(project):
    return client_for(member(project, ROLES.MANAGER))


def jsonl(*records: object) -> bytes:
    return b"".join(json.dumps(record).encode() + b"\n" for record in records)


def test_a_json_body_nested_a_thousand_levels_is_400_naming_the_body(project, article, manager_client):
    layer = layer_for_annotator(article=article, annotator=member(project, ROLES.ANNOTATOR))
    mentions = url(project, f"layers/{layer.pk}/mentions/")

    for target in (mentions, url(project, "jobs/")):
        response = manager_client.post(target, DEEP, content_type="application/json")

        assert response.status_code == 400
        assert response.data["errors"] == {
            "body": ["JSON parse error - the body is nested deeper than 64 levels (JSON_MAX_DEPTH)"]
        }
    assert not Job.objects.exists()


def test_a_json_body_deeper_than_the_setting_is_400_and_one_within_it_parses(settings, project, manager_client):
    settings.JSON_MAX_DEPTH = 3

    deep = manager_client.post(url(project, "jobs/"), {"kind": [[["x"]]]}, format="json")
    within = manager_client.post(url(project, "jobs/"), {"kind": [["x"]]}, format="json")

    assert (deep.status_code, list(deep.data["errors"])) == (400, ["body"])
    assert (within.status_code, list(within.data["errors"])) == (400, ["kind"])


def test_malformed_json_is_400_with_errors_under_body(project, manager_client):
    response = manager_client.post(url(project, "jobs/"), '{"kind": ', content_type="application/json")

    assert response.status_code == 400
    assert list(response.data["errors"]) == ["body"]
    assert response.data["errors"]["body"][0].startswith("JSON parse error - Expecting value")
    assert response.data["detail"] == f"body: {response.data['errors']['body'][0]}"


def test_a_json_body_over_the_limit_is_413_naming_it(settings, project, manager_client):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = manager_client.post(url(project, "jobs/"), {"kind": "preannotate", "pad": "x" * 2000}, format="json")

    assert response.status_code == 413
    assert response.data["detail"].startswith("The request body is 2,")
    assert "over the limit of 1,000 (DATA_UPLOAD_MAX_MEMORY_SIZE)" in response.data["detail"]
    assert not Job.objects.exists()


@pytest.mark.parametrize("how", ["multipart", "ndjson"])
def test_an_import_over_the_limit_is_413_saying_how_to_import_more(settings, project, manager_client, how):
    settings.IMPORT_MAX_BYTES = 5_000
    body = jsonl(*({"title": f"Article {i}", "text": f"Text number {i} about Niger. " * 5} for i in range(60)))
    assert len(body) > 5_000

    if how == "multipart":
        upload = SimpleUploadedFile("big.jsonl", body)
        response = manager_client.post(url(project, "articles/import/"), {"file": upload}, format="multipart")
    else:
        response = manager_client.post(url(project, "articles/import/"), body, content_type="application/x-ndjson")

    assert response.status_code == 413
    detail = response.data["detail"]
    assert "over the limit of 5,000 (IMPORT_MAX_BYTES)" in detail
    assert "send each in a request of its own" in detail
    assert "manage.py import_articles" in detail
    assert Article.objects.count() == 0


def test_an_import_within_the_limit_goes_through(settings, project, manager_client):
    settings.IMPORT_MAX_BYTES = 5_000
    body = jsonl({"title": "One", "text": "First text."})

    response = manager_client.post(url(project, "articles/import/"), body, content_type="application/x-ndjson")

    assert response.status_code == 201


def test_a_lone_surrogate_in_an_import_is_400_naming_line_and_field(project, manager_client):
    body = b'{"title": "Fine", "text": "A fine article."}\n{"title": "Broken", "text": "Sent \\ud800 to Niger."}\n'
    body += b'{"title": "Meta", "text": "Another text.", "metadata": {"k\\udfff": "v"}}\n'

    response = manager_client.post(url(project, "articles/import/"), body, content_type="application/x-ndjson")

    assert response.status_code == 400
    assert response.data["errors"]["file"] == [
        "request body:2: text contains a lone surrogate (U+D800) at position 5, which is not a Unicode character: "
        "fix the escape or the encoding",
        "request body:3: metadata contains a lone surrogate (U+DFFF) at position 1, which is not a Unicode "
        "character: fix the escape or the encoding",
    ]
    assert Article.objects.count() == 0


def test_metadata_over_the_size_limit_is_400_naming_line_and_field(settings, project, manager_client):
    settings.ARTICLE_METADATA_MAX_BYTES = 1_000
    body = jsonl(
        {"title": "Small", "text": "Small metadata.", "metadata": {"note": "x" * 900}},
        {"title": "Large", "text": "Large metadata.", "metadata": {"note": "x" * 1_000}},
    )

    response = manager_client.post(url(project, "articles/import/"), body, content_type="application/x-ndjson")

    assert response.status_code == 400
    assert response.data["errors"]["file"] == [
        "request body:2: metadata takes 1,011 bytes as JSON, over the limit of 1,000 (ARTICLE_METADATA_MAX_BYTES)"
    ]
    assert Article.objects.count() == 0


def test_the_default_metadata_limit_refuses_ten_megabytes(project, manager_client):
    body = jsonl({"title": "Huge", "text": "Huge metadata.", "metadata": {"blob": "x" * 10_000_000}})
    upload = SimpleUploadedFile("huge.jsonl", body)

    response = manager_client.post(url(project, "articles/import/"), {"file": upload}, format="multipart")

    assert response.status_code == 400
    assert "over the limit of 65,536 (ARTICLE_METADATA_MAX_BYTES)" in response.data["errors"]["file"][0]


def test_an_import_line_nested_too_deeply_is_400_naming_the_line(project, manager_client):
    deep_metadata = '{"title": "Deep", "text": "Deep metadata.", "metadata": {"a": ' + "[" * 100 + "]" * 100 + "}}"
    body = jsonl({"title": "Fine", "text": "A fine article."}) + DEEP.encode() + b"\n" + deep_metadata.encode() + b"\n"

    response = manager_client.post(url(project, "articles/import/"), body, content_type="application/x-ndjson")

    assert response.status_code == 400
    assert response.data["errors"]["file"] == [
        "request body:2: JSON nested deeper than 64 levels (JSON_MAX_DEPTH)",
        "request body:3: JSON nested deeper than 64 levels (JSON_MAX_DEPTH)",
    ]


def test_a_label_map_nested_too_deeply_is_400_naming_it(project, manager_client):
    upload = SimpleUploadedFile("d.jsonl", jsonl({"text": "Russia.", "label": [[0, 6, "GPE"]]}))

    response = manager_client.post(
        url(project, "articles/import/"),
        {"file": upload, "annotations": "gold", "label_map": DEEP},
        format="multipart",
    )

    assert response.status_code == 400
    assert response.data["errors"] == {"label_map": ["is nested deeper than 64 levels (JSON_MAX_DEPTH)"]}
