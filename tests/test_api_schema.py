"""OpenAPI schema (drf-spectacular) and the offline Swagger UI."""

from __future__ import annotations

import re
from io import StringIO

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command
from rest_framework.test import APIClient

from annotations.exports.catalog import FORMATS

pytestmark = pytest.mark.django_db

WRITE_METHODS = ("post", "put", "patch")


def test_schema_generates_and_validates_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"

    # --fail-on-warn turns any warning (an undocumented field or parameter) into an error.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out), stdout=StringIO())

    assert yaml.safe_load(out.read_text())["openapi"].startswith("3.")


def operations(schema: dict) -> list[tuple[str, str, dict]]:
    return [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]


def test_every_endpoint_is_documented_with_its_fields():
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    schema = response.json()

    documented = {(path, method) for path, method, _ in operations(schema)}
    assert {
        ("/api/v1/projects/", "get"),
        ("/api/v1/projects/{slug}/articles/", "get"),
        ("/api/v1/projects/{slug}/articles/import/", "post"),
        ("/api/v1/projects/{slug}/articles/{id}/layers/", "post"),
        ("/api/v1/projects/{slug}/layers/{id}/", "patch"),
        ("/api/v1/projects/{slug}/layers/{layer_id}/mentions/", "post"),
        ("/api/v1/projects/{slug}/layers/{layer_id}/events/{id}/", "patch"),
        ("/api/v1/projects/{slug}/layers/{layer_id}/stances/{id}/", "delete"),
        ("/api/v1/projects/{slug}/layers/{id}/suggestions/accept/", "post"),
        ("/api/v1/projects/{slug}/layers/{id}/suggestions/reject/", "post"),
        ("/api/v1/projects/{slug}/jobs/", "post"),
        ("/api/v1/projects/{slug}/dataset-versions/", "post"),
        ("/api/v1/projects/{slug}/dataset-versions/{id}/download/", "get"),
        ("/api/v1/projects/{slug}/export/", "get"),
        ("/api/v1/projects/{slug}/articles/{id}/review/", "get"),
        ("/api/v1/projects/{slug}/layers/{id}/pick/", "post"),
        ("/api/v1/projects/{slug}/layers/{id}/merge/", "post"),
    } <= documented
    for path, method, operation in operations(schema):
        where = f"{method.upper()} {path}"
        assert operation.get("summary") or operation.get("description"), where
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path":
                assert parameter["schema"]["type"] in ("string", "integer"), where
        if method in WRITE_METHODS:
            assert operation["requestBody"]["content"], where
        success = [code for code in operation["responses"] if code.startswith("2")]
        assert success, where
        assert all(operation["responses"][code].get("content") for code in success), where
    # The fields of a write are spelled out, `version` included.
    mention_input = schema["components"]["schemas"]["MentionCreateInputRequest"]
    assert set(mention_input["required"]) == {"version", "label", "start", "end"}
    assert set(mention_input["properties"]) == {"version", "label", "start", "end", "text", "actor"}
    filters = {p["name"] for p in schema["paths"]["/api/v1/projects/{slug}/articles/"]["get"]["parameters"]}
    assert {"status", "stage", "annotator", "q", "has_gold", "page", "page_size"} <= filters
    export = {p["name"] for p in schema["paths"]["/api/v1/projects/{slug}/export/"]["get"]["parameters"]}
    assert {"format", "layer", "split", "ratios", "since", "status"} <= export


def test_swagger_ui_works_offline_with_local_assets():
    response = APIClient().get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    assert not re.search(r"https?://", html), "the page must not load anything from the network"
    start_up = "/api/docs/?script="  # Swagger UI's start-up script, a file of its own (no inline script: CSP)
    assert start_up in assets
    for asset in assets:
        if asset != start_up:
            assert asset.startswith("/static/"), asset
            assert finders.find(asset.removeprefix("/static/")), f"{asset} is not a local static file"
    script = APIClient().get(start_up).content.decode()
    assert '"/api/schema/"' in script
    assert not re.search(r"https?://", script)


def test_the_schema_uses_an_before_a_vowel():
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").content.decode()

    # ("a user", "a one-off" are right: u and o-ne are left out.)
    wrong = sorted(set(re.findall(r"\b[Aa] (?!one)(?:[aeioAEIO]\w*)", schema)))

    assert wrong == []


def test_the_schema_tells_the_truth_about_formats_urls_media_types_and_errors():
    schema = yaml.safe_load(APIClient().get("/api/schema/").content)
    paths = schema["paths"]
    export = paths["/api/v1/projects/{slug}/export/"]["get"]
    download = paths["/api/v1/projects/{slug}/dataset-versions/{id}/download/"]["get"]
    article = schema["components"]["schemas"]["ArticleOutput"]["properties"]

    format_parameter = next(p for p in export["parameters"] if p["name"] == "format")
    assert format_parameter["schema"]["enum"] == list(FORMATS)  # every format of the catalog
    assert "format" not in article["url"]  # an empty url is no uri
    for operation in (export, download):
        assert "application/x-ndjson" in operation["responses"]["200"]["content"]
    jobs = paths["/api/v1/projects/{slug}/jobs/"]["post"]["responses"]["400"]["content"]["application/json"]
    assert jobs["schema"]["$ref"].endswith("/ValidationErrorOutput")  # a malformed body too: errors.body
    assert "errors" in schema["components"]["schemas"]["ValidationErrorOutput"]["required"]
    assert "404" in paths["/api/v1/projects/"]["get"]["responses"]  # page=0 or past the last
