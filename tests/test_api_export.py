"""Streaming exports and immutable dataset versions over the API."""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import datetime
from io import StringIO
from pathlib import Path

import orjson
import pytest
from django.core.management import call_command
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from annotations.models import DatasetVersion
from tests.factories import ArticleFactory, ProjectFactory
from tests.test_api_helpers import ROLES, annotate_gold, client_for, member, url

pytestmark = pytest.mark.django_db

FORMAT_LIST = "jsonl, spacy, conll, brat, dygie, hf, events, events-csv"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def corpus(project):
    """Three articles with annotated gold layers, one without any layer."""
    for article in ArticleFactory.create_batch(3, project=project):
        annotate_gold(article)
    ArticleFactory(project=project)
    return project


@pytest.fixture
def consumer(corpus):
    return client_for(member(corpus, ROLES.CONSUMER, "ml"), token=True)


def content(response) -> bytes:
    return b"".join(response.streaming_content)


def export_corpus_bytes(project, tmp_path: Path, *options: str, out: str) -> bytes:
    target = tmp_path / out
    call_command("export_corpus", "--project", project.slug, "--out", str(target), *options, stdout=StringIO())
    return target.read_bytes()


# --- Export ---------------------------------------------------------------------------------


def test_jsonl_export_streams_the_same_bytes_as_export_corpus(corpus, consumer, tmp_path):
    response = consumer.get(url(corpus, "export/?format=jsonl"))

    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "application/x-ndjson"
    assert response["Content-Disposition"] == f'attachment; filename="{corpus.slug}-gold-jsonl.jsonl"'
    streamed = content(response)
    assert streamed == export_corpus_bytes(corpus, tmp_path, "--format", "jsonl", out="corpus.jsonl")
    lines = [orjson.loads(line) for line in streamed.splitlines()]
    assert len(lines) == 3
    assert [len(line["mentions"]) for line in lines] == [3, 3, 3]


def test_zip_export_streams_the_same_bytes_as_export_corpus(corpus, consumer, tmp_path):
    response = consumer.get(url(corpus, "export/?format=conll&ratios=0.5,0.25,0.25"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == f'attachment; filename="{corpus.slug}-gold-conll.zip"'
    streamed = content(response)
    expected = export_corpus_bytes(corpus, tmp_path, "--format", "conll", "--ratios", "0.5,0.25,0.25", out="c.zip")
    assert streamed == expected
    names = zipfile.ZipFile(io.BytesIO(streamed)).namelist()
    assert names == ["train.conll", "dev.conll", "test.conll", "manifest.json"]


def test_export_options_select_split_and_status(corpus, consumer, tmp_path):
    response = consumer.get(url(corpus, "export/?format=conll&split=train&status=not_started,in_progress"))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain"
    assert response["Content-Disposition"] == f'attachment; filename="{corpus.slug}-gold-conll-train.conll"'
    expected = export_corpus_bytes(
        corpus, tmp_path, "--format", "conll", "--split", "train", "--status", "not_started,in_progress", out="t.conll"
    )
    assert content(response) == expected


def test_gold_export_takes_adjudicated_layers_unless_a_status_is_given(corpus, consumer):
    # given a gold layer that is not adjudicated yet, next to the three adjudicated ones
    pending = annotate_gold(corpus.articles.get(layers=None), adjudicate=False).article.content_hash

    def exported(query: str) -> list[str]:
        response = consumer.get(url(corpus, f"export/?format=jsonl{query}"))
        assert response.status_code == 200
        return [orjson.loads(line)["id"] for line in content(response).splitlines()]

    def versioned(name: str, **status: str) -> int:
        response = consumer.post(url(corpus, "dataset-versions/"), {"name": name, "format": "jsonl", **status})
        assert response.status_code == 201
        return response.data["counts"]["articles"]

    # when the corpus is exported without a status, then with status=all
    default, everything = exported(""), exported("&status=all")

    # then the default leaves the pending layer out and all takes it too, in exports and versions
    assert len(default) == 3 and pending not in default
    assert len(everything) == 4 and pending in everything
    assert exported("&status=adjudicated") == default
    assert (versioned("v1"), versioned("v2", status="all")) == (3, 4)
    # and an unknown status is still refused, also next to all
    for status in ("finished", "all,finished"):
        response = consumer.get(url(corpus, f"export/?format=jsonl&status={status}"))
        assert response.status_code == 400
        assert response.data["errors"]["status"][0].startswith("unknown layer status 'finished'")


def test_export_ignores_the_accept_header(corpus, consumer):
    response = consumer.get(url(corpus, "export/?format=jsonl"), HTTP_ACCEPT="application/zip")

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("format=xml", "format", f"unknown format 'xml'; formats: {FORMAT_LIST}"),
        ("", "format", f"is required; formats: {FORMAT_LIST}"),
        ("format=", "format", f"is empty; formats: {FORMAT_LIST}"),
        ("format=jsonl&layer=silver", "layer", "'silver' is not a layer selector"),
        ("format=jsonl&layer=annotator:nobody", "layer", "no annotator named 'nobody' in project"),
        ("format=jsonl&split=validation", "split", "unknown split 'validation'; use train, dev, test or all"),
        ("format=jsonl&ratios=0.5,0.5", "ratios", "expected three numbers train,dev,test"),
        ("format=jsonl&ratios=0.9,0.9,0.1", "ratios", "train, dev and test must add up to 1"),
        ("format=jsonl&since=last-week", "since", "'last-week' is not an ISO date or date-time"),
        ("format=jsonl&status=finished", "status", "unknown layer status 'finished'"),
        ("format=jsonl&language=french", "language", "'french' is not a language code; use an ISO 639-1 code"),
    ],
)
def test_bad_export_option_is_400_naming_it(corpus, consumer, query, field, message):
    response = consumer.get(url(corpus, f"export/?{query}"))

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert list(response.data["errors"]) == [field]
    assert response.data["errors"][field][0].startswith(message)


def corpus_of(count: int):
    project = ProjectFactory()
    for article in ArticleFactory.create_batch(count, project=project):
        annotate_gold(article)
    return project, client_for(member(project, ROLES.CONSUMER), token=True)


def test_export_takes_the_same_number_of_queries_for_3_or_30_articles(django_assert_max_num_queries):
    small, small_client = corpus_of(3)
    large, large_client = corpus_of(30)
    with CaptureQueriesContext(connection) as baseline:
        assert len(content(small_client.get(url(small, "export/?format=jsonl"))).splitlines()) == 3

    with django_assert_max_num_queries(len(baseline)):
        streamed = content(large_client.get(url(large, "export/?format=jsonl")))

    assert len(streamed.splitlines()) == 30


# --- Dataset versions -----------------------------------------------------------------------


def test_dataset_version_stores_the_export_with_sha256_and_counts(corpus, consumer, media_root):
    response = consumer.post(
        url(corpus, "dataset-versions/"),
        {"name": "v1 train", "format": "jsonl", "split": "train", "ratios": "1,0,0"},
        format="json",
    )

    assert response.status_code == 201
    version = DatasetVersion.objects.get()
    stored = Path(version.file.path)
    assert stored.is_relative_to(media_root)
    data = stored.read_bytes()
    assert response.data["sha256"] == version.sha256 == hashlib.sha256(data).hexdigest()
    assert response.data["size"] == len(data)
    train = content(consumer.get(url(corpus, "export/?format=jsonl&split=train&ratios=1,0,0")))
    assert data == train  # exactly what the export endpoint streams with the same options
    lines = len(train.splitlines())
    assert lines == 3
    counts = response.data["counts"]
    assert {key: counts[key] for key in ("articles", "mentions", "events", "arguments", "stances", "splits")} == {
        "articles": lines,
        "mentions": 3 * lines,
        "events": lines,
        "arguments": 2 * lines,
        "stances": 0,
        "splits": {"train": lines},
    }
    # the rest of the manifest: per split, labels, what the format left out (nothing, for JSONL), warnings
    assert counts["per_split"]["train"]["mentions"] == 3 * lines
    assert sum(counts["labels"]["mentions"].values()) == 3 * lines
    assert counts["dropped"] == [] and counts["warnings"] == []
    assert response.data["created_by"] == "ml"
    assert response.data["params"]["split"] == ["train"]


# --- Export options, headers and manifest ------------------------------------------------------


def test_export_headers_carry_the_as_of_time_and_the_split_counts(corpus, consumer):
    before = timezone.now()

    response = consumer.get(url(corpus, "export/?format=jsonl&ratios=1,0,0&split=train"))

    assert response.status_code == 200
    until = datetime.fromisoformat(response["X-Export-Until"])
    assert before <= until <= timezone.now()
    assert orjson.loads(response["X-Export-Counts"]) == {"articles": 3, "splits": {"train": 3}}
    assert "X-Export-Warning" not in response
    assert len(content(response).splitlines()) == 3


def test_empty_requested_split_is_a_warning_header_or_with_strict_a_409(corpus, consumer):
    # given three articles of three stories, all in train by the ratios: dev is requested and empty
    query = "export/?format=conll&split=train,dev&ratios=1,0,0"
    dev_wanted = "export/?format=conll&split=train,dev&ratios=0.5,0.5,0"
    ok = consumer.get(url(corpus, query))
    assert ok.status_code == 200 and "X-Export-Warning" not in ok  # a zero ratio is no warning

    # when a positive-ratio split can't get a story
    corpus.articles.exclude(layers__kind="gold").delete()
    keep = corpus.articles.order_by("pk").first()
    corpus.articles.exclude(pk=keep.pk).delete()
    warned = consumer.get(url(corpus, dev_wanted))
    strict = consumer.get(url(corpus, dev_wanted + "&strict=true"))
    version = consumer.post(
        url(corpus, "dataset-versions/"),
        {"name": "v", "format": "conll", "split": "train,dev", "ratios": "0.5,0.5,0", "strict": True},
        format="json",
    )

    # then the stream says so in a header, and strict exports and versions are 409s naming the split
    # (the one story goes to train or dev, as its key's hash falls: the other is the empty one)
    assert warned.status_code == 200
    counts = orjson.loads(warned["X-Export-Counts"])
    (empty,) = [split for split, articles in counts["splits"].items() if articles == 0]
    assert counts == {"articles": 1, "splits": {"train": 1, "dev": 1, empty: 0}}
    assert warned["X-Export-Warning"].startswith(f"split {empty} is empty: 1 story for 2 splits")
    manifest = orjson.loads(zipfile.ZipFile(io.BytesIO(content(warned))).read("manifest.json"))
    assert manifest["warnings"] == [warned["X-Export-Warning"]]
    for refused in (strict, version):
        assert refused.status_code == 409
        assert refused.data["empty_splits"] == [empty]
        assert refused.data["errors"]["split"][0].startswith(f"split {empty} is empty")
    assert not DatasetVersion.objects.exists()


def test_seed_and_overlap_reach_the_export(corpus, consumer, tmp_path):
    response = consumer.get(url(corpus, "export/?format=conll&seed=7&overlap=first"))

    assert response.status_code == 200
    streamed = content(response)
    manifest = orjson.loads(zipfile.ZipFile(io.BytesIO(streamed)).read("manifest.json"))
    assert (manifest["seed"], manifest["overlap"]) == (7, "first")
    assert streamed == export_corpus_bytes(
        corpus, tmp_path, "--format", "conll", "--seed", "7", "--overlap", "first", out="c.zip"
    )
    version = consumer.post(
        url(corpus, "dataset-versions/"), {"name": "s", "format": "conll", "seed": 7, "overlap": "first"}
    )
    assert version.status_code == 201
    assert (version.data["params"]["seed"], version.data["params"]["overlap"]) == (7, "first")
    assert datetime.fromisoformat(version.data["params"]["until"]) <= timezone.now()


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("seed=x", "seed", "A valid integer is required."),
        ("overlap=shortest", "overlap", '"shortest" is not a valid choice.'),
        ("strict=maybe", "strict", "Must be a valid boolean."),
    ],
)
def test_bad_seed_overlap_or_strict_is_400_naming_it(corpus, consumer, query, field, message):
    response = consumer.get(url(corpus, f"export/?format=jsonl&{query}"))

    assert response.status_code == 400
    assert response.data["errors"] == {field: [message]}


def test_dataset_version_counts_only_the_chosen_splits(corpus, consumer):
    response = consumer.post(
        url(corpus, "dataset-versions/"), {"name": "dev", "format": "jsonl", "split": "dev", "ratios": "1,0,0"}
    )

    assert response.status_code == 201
    assert response.data["counts"]["articles"] == 0
    assert response.data["counts"]["splits"] == {"dev": 0}
    assert response.data["size"] == 0


def test_dataset_version_download_has_the_recorded_sha256(corpus, consumer):
    created = consumer.post(url(corpus, "dataset-versions/"), {"name": "v1", "format": "brat"}, format="json").data

    response = consumer.get(created["download_url"])

    assert response.status_code == 200
    downloaded = content(response)
    assert hashlib.sha256(downloaded).hexdigest() == created["sha256"]
    assert response["ETag"] == f'"{created["sha256"]}"'
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == f'attachment; filename="v1-{corpus.slug}-gold-brat.zip"'
    assert "annotation.conf" in zipfile.ZipFile(io.BytesIO(downloaded)).namelist()
    assert created["counts"]["articles"] == 3


def test_dataset_versions_are_listed_newest_first(corpus, consumer):
    for name in ("first", "second"):
        assert consumer.post(url(corpus, "dataset-versions/"), {"name": name, "format": "jsonl"}).status_code == 201

    listed = consumer.get(url(corpus, "dataset-versions/"))
    detail = consumer.get(url(corpus, f"dataset-versions/{listed.data['results'][1]['id']}/"))

    assert [v["name"] for v in listed.data["results"]] == ["second", "first"]
    assert detail.data["name"] == "first"


def test_dataset_version_name_is_unique_and_nothing_extra_is_stored(corpus, consumer, media_root):
    consumer.post(url(corpus, "dataset-versions/"), {"name": "v1", "format": "jsonl"})

    again = consumer.post(url(corpus, "dataset-versions/"), {"name": "v1", "format": "conll"})

    assert again.status_code == 400
    assert again.data["errors"] == {
        "name": [f"project {corpus.slug!r} already has a dataset version named 'v1'; versions are immutable"]
    }
    assert DatasetVersion.objects.count() == 1
    assert len([p for p in media_root.rglob("*") if p.is_file()]) == 1


def test_dataset_version_with_a_bad_option_is_400_and_stores_nothing(corpus, consumer, media_root):
    response = consumer.post(url(corpus, "dataset-versions/"), {"name": "v1", "format": "xml"})
    unnamed = consumer.post(url(corpus, "dataset-versions/"), {"format": "jsonl"})

    assert response.status_code == 400
    assert response.data["errors"] == {"format": [f"unknown format 'xml'; formats: {FORMAT_LIST}"]}
    assert unnamed.data["errors"] == {"name": ["This field is required."]}
    assert DatasetVersion.objects.count() == 0
    assert not [p for p in media_root.rglob("*") if p.is_file()]


def test_dataset_versions_are_immutable(corpus):
    manager = client_for(member(corpus, ROLES.MANAGER))
    created = manager.post(url(corpus, "dataset-versions/"), {"name": "v1", "format": "jsonl"}).data
    detail = url(corpus, f"dataset-versions/{created['id']}/")

    put = manager.put(detail, {"name": "v2", "format": "jsonl"}, format="json")
    patch = manager.patch(detail, {"name": "v2"}, format="json")
    delete = manager.delete(detail)

    assert (put.status_code, patch.status_code, delete.status_code) == (405, 405, 405)
    assert DatasetVersion.objects.get().name == "v1"


def test_annotators_have_no_access_to_dataset_versions(corpus, consumer):
    created = consumer.post(url(corpus, "dataset-versions/"), {"name": "v1", "format": "jsonl"}).data
    annotator = client_for(member(corpus, ROLES.ANNOTATOR))

    assert annotator.get(url(corpus, "dataset-versions/")).status_code == 403
    assert annotator.post(url(corpus, "dataset-versions/"), {"name": "v2", "format": "jsonl"}).status_code == 403
    assert annotator.get(created["download_url"]).status_code == 403
    assert DatasetVersion.objects.count() == 1


def test_download_of_a_missing_file_is_410_naming_the_version(corpus, consumer):
    created = consumer.post(url(corpus, "dataset-versions/"), {"name": "v1", "format": "jsonl"}).data
    Path(DatasetVersion.objects.get().file.path).unlink()

    response = consumer.get(created["download_url"])

    assert response.status_code == 410
    assert response.data["detail"] == (
        "The stored file of dataset version 'v1' is gone from the storage; create the version again."
    )
    assert response.data["dataset_version"] == "v1"


def test_download_of_a_changed_file_is_409_and_serves_nothing(corpus, consumer):
    created = consumer.post(url(corpus, "dataset-versions/"), {"name": "v1", "format": "jsonl"}).data
    stored = Path(DatasetVersion.objects.get().file.path)
    stored.write_bytes(stored.read_bytes().replace(b"}", b"]", 1))  # same size, one byte changed
    actual = hashlib.sha256(stored.read_bytes()).hexdigest()

    response = consumer.get(created["download_url"])

    assert response.status_code == 409
    assert response["Content-Type"] == "application/json"
    assert response.data["detail"] == (
        f"The stored file of dataset version 'v1' no longer matches its sha256 (recorded {created['sha256']}, "
        f"stored {actual}): not served. Create the version again."
    )


def test_another_projects_dataset_version_is_404(corpus, consumer):
    other = ProjectFactory()
    manager = client_for(member(other, ROLES.MANAGER))
    foreign = manager.post(url(other, "dataset-versions/"), {"name": "v1", "format": "jsonl"}).data

    assert consumer.get(url(corpus, f"dataset-versions/{foreign['id']}/")).status_code == 404
    assert consumer.get(url(corpus, f"dataset-versions/{foreign['id']}/download/")).status_code == 404
