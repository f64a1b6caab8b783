"""The annotated import over the API: each format into a layer, bad input, roles, the shared corpus."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from annotations.models import Article, Event, Layer, Mention
from annotations.services.projects import project_create
from tests.conftest import require_service
from tests.test_annotated_import import CORPUS, TEXT, at, label_studio_tasks
from tests.test_api_helpers import ROLES, client_for, member, url

pytestmark = pytest.mark.django_db

BRAT_ANN = (
    "T1\tGPE {r0} {r1}\tRussia\nT2\tGPE {n0} {n1}\tNiger\nT3\tAID {s0} {s1}\tsent\nE1\tAID:T3 actor:T1 recipient:T2\n"
)


@pytest.fixture
def fresh(db):
    return project_create(slug="fresh", name="Fresh")


@pytest.fixture
def manager(fresh):
    return client_for(member(fresh, ROLES.MANAGER, "boss"))


def upload(client, project, name: str, content: bytes, **options: str):
    data = {"file": SimpleUploadedFile(name, content), **options}
    return client.post(url(project, "articles/import/"), data, format="multipart")


def brat_ann() -> str:
    (r0, r1), (n0, n1), (s0, s1) = at("Russia"), at("Niger"), at("sent")
    return BRAT_ANN.format(r0=r0, r1=r1, n0=n0, n1=n1, s0=s0, s1=s1)


def zipped(members: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def test_brat_zip_into_gold(fresh, manager):
    content = zipped({"docs/a.txt": TEXT, "docs/a.ann": brat_ann()})

    response = upload(manager, fresh, "collection.zip", content, annotations="gold", format="brat")

    assert response.status_code == 201, response.data
    assert response.data | {"warnings": []} == {
        "layer": "gold",
        "imported": 1,
        "duplicates": [],
        "mentions": 2,
        "events": 1,
        "arguments": 2,
        "stances": 0,
        "warnings": [],
    }
    assert Layer.objects.get(article__project=fresh).kind == "gold"


def test_doccano_into_a_members_annotator_layer_with_a_label_map(fresh, manager):
    member(fresh, ROLES.ANNOTATOR, "ann")
    line = {"text": TEXT, "label": [[*at("Russia"), "Country"], [*at("Niger"), "GPE"]]}

    response = manager.post(
        url(fresh, "articles/import/?annotations=annotator:ann&format=doccano"),
        {"file": SimpleUploadedFile("d.jsonl", json.dumps(line).encode()), "label_map": '{"Country": "GPE"}'},
        format="multipart",
    )

    assert response.status_code == 201, response.data
    assert (response.data["imported"], response.data["mentions"]) == (1, 2)
    assert set(Mention.objects.values_list("layer__kind", "layer__annotator__username", "label")) == {
        ("annotator", "ann", "GPE")
    }


def test_label_studio_annotations_and_predictions(fresh, manager):
    content = json.dumps(label_studio_tasks()).encode()

    gold = upload(manager, fresh, "ls.json", content, annotations="gold", format="labelstudio")
    machine = upload(manager, fresh, "ls.json", content, annotations="machine:ner-1")

    assert (gold.status_code, machine.status_code) == (201, 201)
    assert (gold.data["mentions"], gold.data["events"], machine.data["mentions"]) == (2, 1, 1)
    assert Mention.objects.get(layer__model_version="ner-1").score == 0.9


def test_native_jsonl_round_trip_into_another_project(fresh, manager):
    # given a gold layer exported as native JSONL from one project
    brat = upload(manager, fresh, "c.zip", zipped({"a.txt": TEXT, "a.ann": brat_ann()}), annotations="gold")
    assert brat.status_code == 201
    Layer.objects.filter(kind="gold").update(status="adjudicated")
    exported = b"".join(manager.get(url(fresh, "export/?format=jsonl")).streaming_content)
    other = project_create(slug="other", name="Other")
    boss = client_for(member(other, ROLES.MANAGER))

    response = upload(boss, other, "corpus.jsonl", exported, annotations="gold", format="jsonl")

    assert response.status_code == 201, response.data
    assert b"".join(boss.get(url(other, "export/?format=jsonl")).streaming_content) == exported


def test_unknown_label_is_400_naming_line_and_label_and_keeps_nothing(fresh, manager):
    lines = [{"text": "Mali thanked Russia.", "label": []}, {"text": TEXT, "label": [[0, 6, "COUNTRY"]]}]
    content = "\n".join(json.dumps(line) for line in lines).encode()

    response = upload(manager, fresh, "bad.jsonl", content, annotations="gold", format="doccano")

    assert response.status_code == 400
    assert response.data["errors"]["file"] == [
        "bad.jsonl:2:label: unknown span label 'COUNTRY'; map it with --label-map or add it to the schema"
    ]
    assert not Article.objects.filter(project=fresh).exists()


def test_brat_zip_errors_name_the_member_and_keep_nothing(fresh, manager):
    content = zipped(
        {"a.txt": TEXT, "a.ann": brat_ann(), "b.txt": TEXT + " Again.", "b.ann": "T1\tCOUNTRY 0 6\tRussia\n"}
    )

    response = upload(manager, fresh, "c.zip", content, annotations="gold")

    assert response.status_code == 400
    assert response.data["errors"]["file"][0].startswith("c.zip/b.ann:1:label: T1: unknown span label 'COUNTRY'")
    assert not Article.objects.filter(project=fresh).exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"PK\x03\x04 not really a zip", "c.zip: not a zip archive"),
        (zipped({"../evil.ann": "T1\tGPE 0 6\tRussia\n"}), "c.zip: member '../evil.ann' would be written outside"),
        (zipped({"/etc/evil.txt": "x"}), "c.zip: member '/etc/evil.txt' would be written outside"),
        (zipped({"readme.md": "nothing"}), "c.zip: no annotated file inside"),
    ],
)
def test_broken_zip_or_zip_slip_is_400(fresh, manager, tmp_path, content, message):
    response = upload(manager, fresh, "c.zip", content, annotations="gold", format="brat")

    assert response.status_code == 400
    assert response.data["errors"]["file"][0].startswith(message)
    assert not Article.objects.filter(project=fresh).exists()


def test_zip_over_the_size_limit_is_400(fresh, manager, monkeypatch):
    monkeypatch.setattr("annotations.importers.archive.MAX_BYTES", 100)
    content = zipped({"a.txt": TEXT * 3, "a.ann": brat_ann()})

    response = upload(manager, fresh, "c.zip", content, annotations="gold")

    assert response.status_code == 400
    assert "unpacks to over 100 bytes" in response.data["errors"]["file"][0]


@pytest.mark.parametrize(
    ("options", "field", "message"),
    [
        ({"annotations": "silver"}, "annotations", "'silver' is not a layer"),
        ({"annotations": "annotator:stranger"}, "annotations", "'stranger' is not a member of project 'fresh'"),
        ({"annotations": "gold", "format": "xml"}, "format", '"xml" is not a valid choice.'),
        ({"annotations": "gold", "label_map": "[1, 2]"}, "label_map", "is not a JSON object of label names"),
        ({"annotations": "gold", "label_map": "{oops"}, "label_map", "Value must be valid JSON."),
        ({"format": "doccano"}, "annotations", "is needed with format and label_map"),
    ],
)
def test_bad_options_are_400_naming_them(fresh, manager, options, field, message):
    response = upload(manager, fresh, "x.jsonl", b'{"text": "Mali.", "label": []}\n', **options)

    assert response.status_code == 400
    assert response.data["errors"][field][0].startswith(message)
    assert not Article.objects.exists()


def test_only_managers_import_and_other_projects_are_404(fresh):
    other = project_create(slug="other", name="Other")
    content = json.dumps({"text": TEXT, "label": []}).encode()
    for role in (ROLES.REVIEWER, ROLES.ANNOTATOR, ROLES.CONSUMER):
        response = upload(client_for(member(fresh, role)), fresh, "x.jsonl", content, annotations="gold")
        assert response.status_code == 403
    outsider = client_for(member(other, ROLES.MANAGER))
    assert upload(outsider, fresh, "x.jsonl", content, annotations="gold").status_code == 404
    assert not Article.objects.exists()


def test_the_shared_corpus_imports_as_adjudicated_gold_through_the_api(fresh, manager):
    path = CORPUS / "en_train.jsonl"
    require_service(path.is_file(), f"the shared corpus ({path})")

    response = upload(manager, fresh, path.name, Path(path).read_bytes(), annotations="gold")

    assert response.status_code == 201, response.data
    assert (response.data["imported"], response.data["mentions"], response.data["events"]) == (18, 745, 216)
    assert set(Layer.objects.filter(article__project=fresh).values_list("kind", "status")) == {("gold", "adjudicated")}
    assert Event.objects.filter(layer__article__project=fresh).count() == 216
