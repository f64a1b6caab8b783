"""The Python client (`client/`, import name workbench_client) against a live server.

pytest-django's `live_server` serves the app from a thread of this process on the test
database, so the client talks real HTTP to real views with real users and tokens. Only the
retry tests use httpx's MockTransport (a server that fails on purpose).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import threading
import time
import zipfile
from datetime import datetime

import httpx
import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from workbench_client import (
    BadRequest,
    ChecksumMismatch,
    Conflict,
    ConnectionFailed,
    DatasetVersion,
    Forbidden,
    Job,
    JobFailed,
    JobTimeout,
    NotFound,
    ServerError,
    Unauthorized,
    Workbench,
)

from annotations.models import Article, Layer
from annotations.models import DatasetVersion as StoredVersion
from annotations.models import Job as JobRow
from tests.factories import ArticleFactory, MembershipFactory, ProjectFactory
from tests.test_api_helpers import ROLES, annotate_gold, member

FORMAT_LIST = "jsonl, spacy, conll, brat, dygie, hf, events, events-csv"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def client_as(live_server, user) -> Workbench:
    token, _ = Token.objects.get_or_create(user=user)
    return Workbench(live_server.url, token.key, timeout=30, retries=0)


@pytest.fixture
def corpus(transactional_db):
    """Three articles with adjudicated gold layers, one without any layer."""
    project = ProjectFactory(slug="news")
    for article in ArticleFactory.create_batch(3, project=project):
        annotate_gold(article)
    ArticleFactory(project=project)
    return project


@pytest.fixture
def ml(live_server, corpus):
    """The consumer `ml` of the corpus, through the client."""
    with client_as(live_server, member(corpus, ROLES.CONSUMER, "ml")) as wb:
        yield wb


@pytest.fixture
def manager(live_server, corpus):
    with client_as(live_server, member(corpus, ROLES.MANAGER, "boss")) as wb:
        yield wb


def jsonl(*records: dict) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in records)


# --- Projects -------------------------------------------------------------------------------


def test_projects_are_the_members_with_role_and_the_detail_has_the_schema(ml, corpus):
    ProjectFactory(slug="elsewhere")  # not a member: not listed

    projects = ml.projects()
    detail = ml.project("news")

    assert [(p.slug, p.role, p.article_count) for p in projects] == [("news", "consumer", 4)]
    assert isinstance(projects[0].created_at, datetime)
    assert projects[0].label_schema is None
    assert detail.label_schema == corpus.label_schema
    assert detail.guidelines == "Label every named actor."


def test_projects_reads_every_page(live_server, transactional_db, monkeypatch):
    monkeypatch.setattr("workbench_client.client.PAGE_SIZE", 2)
    user = member(ProjectFactory(slug="p-0"), ROLES.CONSUMER, "many")
    for n in range(1, 5):
        MembershipFactory(project=ProjectFactory(slug=f"p-{n}"), user=user, role=ROLES.CONSUMER)

    with client_as(live_server, user) as wb:
        slugs = [p.slug for p in wb.projects()]

    assert sorted(slugs) == ["p-0", "p-1", "p-2", "p-3", "p-4"]


# --- Export ---------------------------------------------------------------------------------


def test_jsonl_export_iterates_records_and_exposes_the_headers(ml, corpus):
    with ml.export("news", "jsonl") as export:
        records = list(export)

    assert export.filename == "news-gold-jsonl.jsonl"
    assert export.media_type == "application/x-ndjson"
    assert export.headers["Content-Disposition"] == 'attachment; filename="news-gold-jsonl.jsonl"'
    assert len(records) == 3
    assert [len(r["mentions"]) for r in records] == [3, 3, 3]
    gold_hashes = set(Article.objects.filter(layers__kind=Layer.Kind.GOLD).values_list("content_hash", flat=True))
    assert {r["id"] for r in records} == gold_hashes


def test_jsonl_export_to_a_folder_is_the_served_bytes_under_the_servers_file_name(ml, tmp_path):
    served = ml.export("news", "jsonl", split="train", ratios=[1, 0, 0]).to_file(tmp_path)

    assert served == tmp_path / "news-gold-jsonl-train.jsonl"
    assert len(served.read_bytes().splitlines()) == 3
    assert not list(tmp_path.glob("*.part"))


def test_zip_export_streams_to_a_file(ml, tmp_path):
    target = ml.export("news", "conll", ratios="0.5,0.25,0.25").to_file(tmp_path / "corpus.zip")

    with zipfile.ZipFile(target) as archive:
        names = archive.namelist()
        manifest = json.loads(archive.read("manifest.json"))
    assert names == ["train.conll", "dev.conll", "test.conll", "manifest.json"]
    assert manifest["counts"]["articles"] == 3


def test_a_non_jsonl_export_iterates_byte_chunks(ml):
    chunks = list(ml.export("news", "brat"))

    assert chunks and all(isinstance(chunk, bytes) for chunk in chunks)
    assert zipfile.ZipFile(io.BytesIO(b"".join(chunks))).testzip() is None


def test_an_export_streams_once(ml):
    export = ml.export("news")
    list(export)

    with pytest.raises(RuntimeError, match="streamed once"):
        list(export)


def test_since_returns_only_what_changed_after_it(ml, corpus):
    before = timezone.now()
    time.sleep(0.01)
    newer = ArticleFactory(project=corpus)
    annotate_gold(newer)

    records = list(ml.export("news", since=before))

    assert [r["id"] for r in records] == [newer.content_hash]


def test_until_header_round_trip_syncs_only_the_changes(ml, corpus):
    # given a first full export and the as-of time the server reports
    first = ml.export("news")
    assert len(list(first)) == 3
    if first.until is None:
        pytest.skip("the server sends no X-Export-Until yet (incremental sync lands with the ml-api branch)")
    # when one more article is adjudicated and the export is asked for since that time
    newer = ArticleFactory(project=corpus)
    annotate_gold(newer)
    second = ml.export("news", since=first.until)

    # then only the change comes back, with a later as-of time
    assert [r["id"] for r in second] == [newer.content_hash]
    assert second.until is not None and second.until >= first.until


# --- Dataset versions -----------------------------------------------------------------------


def test_dataset_version_is_created_listed_and_downloaded_with_its_checksum(ml, tmp_path):
    created = ml.create_dataset_version("news", name="v1", format="conll", split=["train", "dev"], ratios="0.5,0.5,0")

    listed = ml.dataset_versions("news")
    path = ml.download_dataset_version("news", created.id, tmp_path)

    assert isinstance(created, DatasetVersion)
    assert (created.name, created.format, created.counts["articles"]) == ("v1", "conll", 3)
    assert [v.id for v in listed] == [created.id]
    assert path.name == created.filename
    assert hashlib.sha256(path.read_bytes()).hexdigest() == created.sha256
    assert path.stat().st_size == created.size
    assert zipfile.ZipFile(path).namelist()[:2] == ["train.conll", "dev.conll"]


def test_a_download_that_does_not_match_the_recorded_sha256_is_refused(ml, tmp_path):
    created = ml.create_dataset_version("news", name="v1")
    # The client checks what it received against the sha256 it was given (bytes changed on the way).
    with pytest.raises(ChecksumMismatch, match="sha256 differs"):
        ml.download_dataset_version("news", dataclasses.replace(created, sha256="0" * 64), tmp_path / "v1.jsonl")
    stored = StoredVersion.objects.get(pk=created.id)
    with open(stored.file.path, "ab") as handle:  # the stored file changed on disk
        handle.write(b'{"tampered": true}\n')

    # The server checks the stored bytes before sending any and refuses.
    with pytest.raises(Conflict, match="no longer matches its sha256"):
        ml.download_dataset_version("news", created, tmp_path / "v1.jsonl")

    assert list(tmp_path.iterdir()) == [tmp_path / "media"]


def test_a_duplicate_dataset_version_name_is_a_bad_request_naming_the_field(ml):
    ml.create_dataset_version("news", name="v1")

    with pytest.raises(BadRequest) as raised:
        ml.create_dataset_version("news", name="v1", format="conll")

    assert raised.value.status_code == 400
    assert raised.value.errors == {
        "name": ["project 'news' already has a dataset version named 'v1'; versions are immutable"]
    }


# --- Import ---------------------------------------------------------------------------------


def test_import_articles_from_a_path_and_from_a_file_object(manager, corpus, tmp_path):
    path = tmp_path / "batch.jsonl"
    path.write_bytes(jsonl({"title": "One", "text": "First text."}, {"title": "Two", "text": "Second text."}))

    from_path = manager.import_articles("news", path)
    from_file = manager.import_articles("news", io.BytesIO(jsonl({"title": "One", "text": "First text."})))

    assert (from_path.imported, from_path.duplicates) == (2, [])
    assert sorted(Article.objects.filter(pk__in=from_path.articles).values_list("title", flat=True)) == ["One", "Two"]
    assert Article.objects.get(title="Two").imported_from == "api:batch.jsonl"
    assert (from_file.imported, from_file.articles, from_file.duplicates) == (0, [], ["One"])


def test_a_bad_import_raises_bad_request_with_every_line(manager, corpus):
    body = jsonl({"title": "Fine", "text": "A fine article."}) + b"{not json\n" + jsonl({"text": "no title"})

    with pytest.raises(BadRequest) as raised:
        manager.import_articles("news", io.BytesIO(body))

    assert raised.value.detail == "nothing was imported: 2 error(s) in the file"
    assert raised.value.errors == {
        "file": [
            "upload.jsonl:2: malformed JSON (Expecting property name enclosed in double quotes at column 2)",
            "upload.jsonl:3: missing required field 'title'",
        ]
    }
    assert Article.objects.filter(title="Fine").count() == 0


# --- Errors ---------------------------------------------------------------------------------


def test_an_unknown_project_is_not_found(ml):
    with pytest.raises(NotFound) as raised:
        ml.project("nope")

    assert raised.value.status_code == 404
    assert raised.value.detail


def test_a_consumer_starting_a_job_is_forbidden(ml):
    with pytest.raises(Forbidden) as raised:
        ml.preannotate("news")

    assert raised.value.status_code == 403
    assert "consumer" in raised.value.detail
    assert JobRow.objects.count() == 0


def test_a_bad_export_option_is_a_bad_request_naming_it(ml):
    with pytest.raises(BadRequest) as raised:
        ml.export("news", "xml")

    assert raised.value.errors == {"format": [f"unknown format 'xml'; formats: {FORMAT_LIST}"]}
    assert str(raised.value) == f"400 format: unknown format 'xml'; formats: {FORMAT_LIST}"


def test_a_wrong_token_is_unauthorized(live_server, corpus):
    with Workbench(live_server.url, "not-a-token", retries=0) as wb, pytest.raises(Unauthorized):
        wb.projects()


# --- Jobs -----------------------------------------------------------------------------------


def job_row(project, **fields) -> JobRow:
    return JobRow.objects.create(project=project, kind=JobRow.Kind.PREANNOTATE, total=4, **fields)


def test_wait_returns_the_finished_job_and_draws_one_progress_line(manager, corpus):
    row = job_row(corpus, status=JobRow.Status.SUCCEEDED, done=4, counts={"mentions": 12})
    out = io.StringIO()

    job = manager.job("news", row.pk).wait(progress=True, stream=out, poll=0.05)

    assert (job.status, job.done, job.total, job.counts) == ("succeeded", 4, 4, {"mentions": 12})
    assert out.getvalue() == f"\rpreannotate job {row.pk}: succeeded 4/4 100%\n"


def test_wait_follows_a_running_job_until_it_fails_and_raises_its_error(manager, corpus):
    row = job_row(corpus, status=JobRow.Status.RUNNING, done=1)
    out = io.StringIO()

    def finish_later() -> None:
        time.sleep(1.0)  # the client reads the running job first
        JobRow.objects.filter(pk=row.pk).update(status=JobRow.Status.FAILED, done=2, error="the broker went away")

    thread = threading.Thread(target=finish_later)
    thread.start()
    try:
        with pytest.raises(JobFailed) as raised:
            manager.job("news", row.pk).wait(progress=True, stream=out, poll=0.05, timeout=30)
    finally:
        thread.join()

    assert raised.value.job.error == "the broker went away"
    assert str(raised.value) == f"preannotate job {row.pk} failed: the broker went away"
    lines = out.getvalue()
    assert lines.startswith(f"\rpreannotate job {row.pk}: running   1/4  25%")
    assert lines.endswith(f"\rpreannotate job {row.pk}: failed    2/4  50%\n")
    assert lines.count("\n") == 1  # one line, rewritten in place


def test_wait_gives_up_after_its_timeout(manager, corpus):
    row = job_row(corpus)

    with pytest.raises(JobTimeout) as raised:
        manager.job("news", row.pk).wait(timeout=0.3, poll=0.05)

    assert raised.value.job.status == "pending"


@pytest.mark.services
def test_preannotate_with_a_real_worker_and_wait(live_server, start_worker, corpus):
    start_worker()
    ids = [ArticleFactory(project=corpus).pk]
    with client_as(live_server, member(corpus, ROLES.MANAGER, "boss")) as wb:
        started = wb.preannotate("news", articles=ids)
        out = io.StringIO()
        job = started.wait(progress=True, stream=out, timeout=180, poll=0.2)

    assert isinstance(started, Job) and started.status == "pending"
    assert (job.status, job.done, job.total) == ("succeeded", 1, 1)
    assert Layer.objects.filter(article_id=ids[0], kind=Layer.Kind.MACHINE).exists()
    assert out.getvalue().endswith(f"\rpreannotate job {job.id}: succeeded 1/1 100%\n")
    assert job.finished_at is not None and job.model_version


# --- Retries (httpx MockTransport: a server that fails on purpose) --------------------------


def mocked(*answers: httpx.Response | Exception, retries: int = 3) -> tuple[Workbench, list[httpx.Request], list]:
    """A client whose server answers `answers` in turn; returns it, the requests and the sleeps."""
    requests: list[httpx.Request] = []
    pending = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        answer = pending.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    wb = Workbench("http://workbench.test", "key", retries=retries, transport=httpx.MockTransport(handler))
    sleeps: list[float] = []
    wb._sleep = sleeps.append
    return wb, requests, sleeps


PROJECTS = {"count": 1, "next": None, "previous": None, "results": [{"slug": "news", "name": "News"}]}


def test_a_503_is_retried_with_exponential_back_off():
    wb, requests, sleeps = mocked(httpx.Response(503), httpx.Response(503), httpx.Response(200, json=PROJECTS))

    projects = wb.projects()

    assert [p.slug for p in projects] == ["news"]
    assert len(requests) == 3
    assert sleeps == [0.5, 1.0]
    assert requests[0].headers["Authorization"] == "Token key"
    assert str(requests[0].url) == "http://workbench.test/api/v1/projects/?page=1&page_size=200"


def test_a_5xx_after_the_last_retry_is_a_server_error():
    wb, requests, sleeps = mocked(*[httpx.Response(502, text="Bad Gateway")] * 3, retries=2)

    with pytest.raises(ServerError) as raised:
        wb.projects()

    assert (len(requests), sleeps, raised.value.status_code) == (3, [0.5, 1.0], 502)


def test_retry_after_is_honoured():
    wb, _, sleeps = mocked(httpx.Response(503, headers={"Retry-After": "7"}), httpx.Response(200, json=PROJECTS))

    wb.projects()

    assert sleeps == [7.0]


def test_a_4xx_is_not_retried():
    wb, requests, sleeps = mocked(httpx.Response(404, json={"detail": "Not found."}))

    with pytest.raises(NotFound, match=r"404 Not found\."):
        wb.project("news")

    assert (len(requests), sleeps) == (1, [])


def test_connection_errors_are_retried_then_raised():
    refused = httpx.ConnectError("connection refused")
    wb, requests, sleeps = mocked(refused, refused, httpx.Response(200, json=PROJECTS), retries=2)

    assert [p.slug for p in wb.projects()] == ["news"]
    assert sleeps == [0.5, 1.0]

    wb, requests, _ = mocked(refused, refused, retries=1)
    with pytest.raises(ConnectionFailed) as raised:
        wb.projects()
    assert len(requests) == 2
    assert isinstance(raised.value.__cause__, httpx.ConnectError)


def test_a_post_is_not_repeated_when_its_answer_may_be_lost():
    # a read timeout after sending, or a gateway that gave up: the server may have done it
    wb, requests, _ = mocked(httpx.ReadTimeout("no answer"))
    with pytest.raises(ConnectionFailed):
        wb.preannotate("news")
    assert len(requests) == 1

    wb, requests, _ = mocked(httpx.Response(504))
    with pytest.raises(ServerError):
        wb.preannotate("news")
    assert len(requests) == 1


def test_an_upload_is_sent_again_from_its_start_after_a_503():
    body = jsonl({"title": "One", "text": "First."})
    answer = {"imported": 1, "articles": [7], "duplicates": []}
    wb, requests, _ = mocked(httpx.Response(503), httpx.Response(201, json=answer))

    result = wb.import_articles("news", io.BytesIO(body), annotations="gold")

    assert result.articles == [7]
    assert [r.read().count(body) for r in requests] == [1, 1]
    assert b'name="annotations"\r\n\r\ngold' in requests[1].read()


def test_export_headers_are_read_as_the_server_sends_them():
    headers = {
        "Content-Disposition": "attachment; filename*=utf-8''nouvelles-%C3%A9t%C3%A9.jsonl",
        "X-Export-Until": "2026-03-01T10:00:00+00:00",
        "X-Export-Counts": '{"articles": 2}',
        "X-Something-New": "yes",
    }
    response = httpx.Response(
        200,
        headers=[*headers.items(), ("X-Export-Warning", "split 'dev' is empty"), ("X-Export-Warning", "so is test")],
        content=jsonl({"id": "a"}, {"id": "b"}).rstrip(b"\n"),
    )
    wb, requests, _ = mocked(response)

    export = wb.export("news", since="2026-01-01", seed=3, strict=True)

    assert (export.until, export.counts, export.headers["x-something-new"]) == (
        headers["X-Export-Until"],
        {"articles": 2},
        "yes",
    )
    assert export.warnings == ["split 'dev' is empty", "so is test"]
    assert export.filename == "nouvelles-été.jsonl"
    assert [r["id"] for r in export] == ["a", "b"]  # the last line without its newline too
    assert requests[0].url.params == httpx.QueryParams(
        {"format": "jsonl", "layer": "gold", "split": "all", "since": "2026-01-01", "seed": "3", "strict": "true"}
    )
