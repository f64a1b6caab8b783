"""Dataset versions in either storage (local data directory, S3-compatible server): downloads that
stream the stored bytes after checking them, 410 / 409 when they are gone or changed, a fresh
process serving the same bytes, and `manage.py check_storage`."""

from __future__ import annotations

import hashlib
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.authtoken.models import Token

from annotations.models import DatasetVersion
from annotations.services.datasets import dataset_version_create
from tests.factories import ArticleFactory, ProjectFactory
from tests.test_api_helpers import ROLES, annotate_gold, client_for, member, url
from tests.workers import run_manage
from workbench.storages import storage_backend


@pytest.fixture
def corpus(db):
    project = ProjectFactory(slug="sahel")
    for article in ArticleFactory.create_batch(3, project=project):
        annotate_gold(article)
    return project


def create(project, name: str = "v1", format: str = "jsonl") -> DatasetVersion:
    return dataset_version_create(project=project, name=name, format=format)


def download(project, version: DatasetVersion, user=None):
    client = client_for(user or member(project, ROLES.CONSUMER, "ml"), token=True)
    return client.get(url(project, f"dataset-versions/{version.pk}/download/"))


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_a_dataset_version_is_stored_in_the_storage_and_downloaded_from_it(backend, corpus):
    version = create(corpus, format="conll")

    response = download(corpus, version)

    data = body(response)
    assert response.status_code == 200
    assert backend.names() == [version.file.name]
    assert version.file.name.startswith("datasets/sahel/v1-") and version.file.name.endswith(".zip")
    assert data == backend.read(version.file.name)
    assert hashlib.sha256(data).hexdigest() == version.sha256
    assert response["Content-Length"] == str(version.size) == str(len(data))
    assert response["ETag"] == f'"{version.sha256}"'
    assert response["Content-Disposition"] == f'attachment; filename="{version.params["filename"]}"'


def test_a_removed_file_answers_410_with_the_versions_name(backend, corpus):
    version = create(corpus, name="train 2024")
    backend.remove(version.file.name)

    response = download(corpus, version)

    assert response.status_code == 410
    assert response.data == {
        "detail": "The stored file of dataset version 'train 2024' is gone from the storage; create the version again.",
        "dataset_version": "train 2024",
        "file": version.file.name,
    }


def test_a_changed_file_answers_409_and_is_not_served(backend, corpus):
    version = create(corpus)
    original = backend.read(version.file.name)
    backend.overwrite(version.file.name, original.replace(b"{", b"[", 1))

    response = download(corpus, version)

    assert response.status_code == 409
    assert "no longer matches its sha256" in response.data["detail"]
    assert not getattr(response, "streaming", False)


FRESH_PROCESS = """
import hashlib
from django.test import Client
response = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Token {TOKEN}").get(PATH)
data = b"".join(response.streaming_content) if response.streaming else response.content
print(response.status_code, hashlib.sha256(data).hexdigest(), len(data))
"""


@pytest.mark.django_db(transaction=True)
def test_a_fresh_process_with_the_same_database_and_storage_serves_the_same_bytes(backend):
    # What a recreated web container is: nothing of the old process, the same DATABASE_URL and storage.
    project = ProjectFactory(slug="sahel")
    for article in ArticleFactory.create_batch(2, project=project):
        annotate_gold(article)
    consumer = member(project, ROLES.CONSUMER, "ml")
    token = Token.objects.create(user=consumer).key
    version = create(project, format="spacy")
    path = url(project, f"dataset-versions/{version.pk}/download/")

    code = f"PATH, TOKEN = {path!r}, {token!r}\n{FRESH_PROCESS}"

    served = run_manage("shell", "--no-imports", "--command", code, **backend.env)

    assert served.returncode == 0, served.stderr
    assert served.stdout.split() == ["200", version.sha256, str(version.size)]


@pytest.mark.django_db(transaction=True)
def test_check_storage_exits_non_zero_when_a_recorded_file_is_missing(backend):
    project = ProjectFactory(slug="sahel")
    annotate_gold(ArticleFactory(project=project))
    version = create(project)

    healthy = StringIO()
    call_command("check_storage", stdout=healthy)
    backend.remove(version.file.name)
    broken = run_manage("check_storage", **backend.env)

    assert healthy.getvalue().splitlines()[-1].endswith("(sha256): 0 problem(s)")
    assert broken.returncode == 1
    assert broken.stdout.splitlines() == [f"missing  dataset version sahel/v1: {version.file.name}"]
    assert "checked 1 stored file(s)" in broken.stderr


def test_check_storage_reports_missing_and_corrupt_files(backend, corpus):
    fine = create(corpus, name="fine")
    gone = create(corpus, name="gone")
    changed = create(corpus, name="changed")
    backend.remove(gone.file.name)
    backend.overwrite(changed.file.name, b"x" * changed.size)
    out = StringIO()

    with pytest.raises(CommandError, match=r"checked 3 stored file\(s\) in .*: 2 problem\(s\)"):
        call_command("check_storage", stdout=out)

    stored = hashlib.sha256(b"x" * changed.size).hexdigest()
    assert out.getvalue().splitlines() == [
        f"missing  dataset version sahel/gone: {gone.file.name}",
        f"corrupt  dataset version sahel/changed: {changed.file.name} has sha256 {stored}, recorded {changed.sha256}",
    ]
    assert fine.file.name not in out.getvalue()


def test_check_storage_quick_sees_what_is_missing_or_resized_without_reading(backend, corpus):
    gone = create(corpus, name="gone")
    same_size = create(corpus, name="same size")
    shorter = create(corpus, name="shorter")
    backend.remove(gone.file.name)
    backend.overwrite(same_size.file.name, b"x" * same_size.size)  # only the sha256 would see this
    backend.overwrite(shorter.file.name, b"x")
    out = StringIO()

    with pytest.raises(CommandError, match=r"\(presence and size\): 2 problem\(s\)"):
        call_command("check_storage", "--quick", stdout=out)

    assert out.getvalue().splitlines() == [
        f"missing  dataset version sahel/gone: {gone.file.name}",
        f"corrupt  dataset version sahel/shorter: {shorter.file.name} is 1 bytes, recorded {shorter.size}",
    ]


def test_check_storage_lists_orphans_and_keeps_to_a_project(backend, corpus):
    kept = create(corpus, name="kept")
    other = ProjectFactory(slug="other")
    annotate_gold(ArticleFactory(project=other))
    create(other, name="elsewhere")
    backend.overwrite("datasets/sahel/left-behind.jsonl", b"{}")
    out = StringIO()

    call_command("check_storage", "--project", "sahel", "--orphans", stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0] == "orphan  datasets/sahel/left-behind.jsonl (no row refers to it)"
    assert lines[1].startswith("checked 1 stored file(s) in ") and lines[1].endswith("(sha256): 0 problem(s)")
    assert kept.file.name not in out.getvalue()


def test_a_storage_that_does_not_answer_is_503_not_a_missing_file(backend, corpus, settings, monkeypatch):
    version = create(corpus)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("WORKBENCH_S3_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    settings.STORAGES = {**settings.STORAGES, "default": storage_backend("s3://workbench-unreachable/stored")}

    response = download(corpus, version)

    assert response.status_code == 503
    assert response.data["detail"] == "The storage did not answer for dataset version 'v1'; try again later."
