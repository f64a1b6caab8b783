"""Incremental sync: `since=` selects by the layer's last change, and tells what left with tombstones."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from pathlib import Path

import orjson
import pytest
from django.core.management import call_command
from django.utils import timezone

from annotations.models import Deletion, Layer
from annotations.services.articles import article_delete
from annotations.services.items import mention_create
from annotations.services.layers import layer_delete, layer_set_status
from tests.factories import ArticleFactory, ProjectFactory
from tests.test_api_helpers import ROLES, annotate_gold, client_for, machine_layer, member, url

pytestmark = pytest.mark.django_db


def lines_of(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return [orjson.loads(line) for line in b"".join(response.streaming_content).splitlines()]


def back_date(layer: Layer, minutes: int = 10) -> None:
    """As if the layer's last change (and its article) were `minutes` ago."""
    past = timezone.now() - timedelta(minutes=minutes)
    Layer.objects.filter(pk=layer.pk).update(updated_at=past)
    type(layer.article).objects.filter(pk=layer.article_id).update(created_at=past)


@pytest.fixture
def consumer(project):
    return client_for(member(project, ROLES.CONSUMER, "ml"), token=True)


def test_adjudication_after_since_on_an_older_article_shows_up(project, consumer):
    # given article A created and annotated at T1, untouched adjudicated B, both before `since`
    pending = annotate_gold(ArticleFactory(project=project), adjudicate=False)
    settled = annotate_gold(ArticleFactory(project=project))
    back_date(pending)
    back_date(settled)
    since = (timezone.now() - timedelta(minutes=5)).isoformat()

    # when A is adjudicated at T2 > since
    layer_set_status(layer=pending, status=Layer.Status.ADJUDICATED)
    exported = lines_of(consumer.get(url(project, "export/"), {"format": "jsonl", "since": since}))

    # then the export since that time holds A only (B didn't change), and no tombstone
    assert [line["id"] for line in exported] == [pending.article.content_hash]
    assert exported[0]["layer"]["status"] == "adjudicated"


def test_a_correction_shows_up_and_the_until_header_is_the_next_since(project, consumer):
    gold = annotate_gold(ArticleFactory(project=project), adjudicate=False)
    first = consumer.get(url(project, "export/"), {"format": "jsonl", "status": "all"})
    assert len(lines_of(first)) == 1
    until = first["X-Export-Until"]

    nothing = consumer.get(url(project, "export/"), {"format": "jsonl", "status": "all", "since": until})
    assert lines_of(nothing) == []

    start = gold.article.text.index("Niamey")
    mention_create(layer=gold, label="GPE", start=start, end=start + len("Niamey"))
    changed = lines_of(consumer.get(url(project, "export/"), {"format": "jsonl", "status": "all", "since": until}))
    assert [line["id"] for line in changed] == [gold.article.content_hash]
    assert "Niamey" in [mention["text"] for mention in changed[0]["mentions"]]


def test_deleted_article_and_layer_are_tombstones_and_in_the_deleted_feed(project, consumer):
    # given three adjudicated articles exported before `since`
    gone_article, gone_layer, kept = (annotate_gold(ArticleFactory(project=project)) for _ in range(3))
    for layer in (gone_article, gone_layer, kept):
        back_date(layer)
    since = (timezone.now() - timedelta(minutes=5)).isoformat()
    keys = (gone_article.article.content_hash, gone_layer.article.content_hash)

    # when one article and another's gold layer are deleted
    article_delete(article=gone_article.article)
    layer_delete(layer=gone_layer)
    exported = lines_of(consumer.get(url(project, "export/"), {"format": "jsonl", "since": since}))
    feed = consumer.get(url(project, "deleted/"), {"since": since})

    # then the export is two tombstone lines (and nothing else changed), the feed two rows
    assert [(line["key"], line["deleted"]) for line in exported] == [(keys[0], True), (keys[1], True)]
    assert all(set(line) == {"key", "deleted", "at"} for line in exported)
    assert feed.status_code == 200
    rows = feed.data["results"]
    assert [(row["key"], row["layer"], row["what"], row["deleted"]) for row in rows] == [
        (keys[0], "gold", "article", True),
        (keys[1], "gold", "layer", True),
    ]
    # and a full export (no since) never has tombstones; an export since after them neither
    assert all("deleted" not in line for line in lines_of(consumer.get(url(project, "export/?format=jsonl"))))
    later = consumer.get(url(project, "deleted/"), {"since": timezone.now().isoformat()})
    assert later.data["results"] == []


def test_deletions_are_tombstones_only_for_their_own_layer(project, consumer):
    article = ArticleFactory(project=project)
    machine = machine_layer(article, "v1")
    gold = annotate_gold(article)
    since = (timezone.now() - timedelta(seconds=1)).isoformat()
    back_date(gold)

    layer_delete(layer=machine)

    gold_lines = lines_of(consumer.get(url(project, "export/"), {"format": "jsonl", "since": since}))
    machine_lines = lines_of(
        consumer.get(url(project, "export/"), {"format": "jsonl", "layer": "machine:v1", "since": since})
    )
    assert gold_lines == []
    assert [line["key"] for line in machine_lines] == [article.content_hash]
    assert [r["layer"] for r in consumer.get(url(project, "deleted/?layer=machine:v1")).data["results"]] == [
        "machine:v1"
    ]
    assert consumer.get(url(project, "deleted/?layer=gold")).data["results"] == []


def test_reopened_gold_layer_is_a_tombstone_of_the_adjudicated_export(project, consumer):
    gold = annotate_gold(ArticleFactory(project=project))
    back_date(gold)
    since = (timezone.now() - timedelta(minutes=5)).isoformat()

    layer_set_status(layer=gold, status=Layer.Status.IN_PROGRESS)

    adjudicated = lines_of(consumer.get(url(project, "export/"), {"format": "jsonl", "since": since}))
    everything = lines_of(consumer.get(url(project, "export/"), {"format": "jsonl", "since": since, "status": "all"}))
    assert [(line["key"], line["deleted"]) for line in adjudicated] == [(gold.article.content_hash, True)]
    assert [line["id"] for line in everything] == [gold.article.content_hash]  # still there for status=all
    assert not Deletion.objects.exists()  # not deleted: the export tells it from the layer's status


def test_export_corpus_since_gives_the_same_lines_and_prints_the_as_of_time(project, consumer, tmp_path):
    changed = annotate_gold(ArticleFactory(project=project), adjudicate=False)
    deleted = annotate_gold(ArticleFactory(project=project))
    back_date(changed)
    back_date(deleted)
    since = (timezone.now() - timedelta(minutes=5)).isoformat()
    layer_set_status(layer=changed, status=Layer.Status.ADJUDICATED)
    article_delete(article=deleted.article)
    out, target = StringIO(), Path(tmp_path) / "sync.jsonl"

    call_command(
        "export_corpus",
        "--project",
        project.slug,
        "--format",
        "jsonl",
        "--since",
        since,
        "--out",
        str(target),
        stdout=out,
    )

    written = [orjson.loads(line) for line in target.read_bytes().splitlines()]
    assert [line.get("id") or line["key"] for line in written] == [
        changed.article.content_hash,
        deleted.article.content_hash,
    ]
    assert written[1]["deleted"] is True
    api = b"".join(consumer.get(url(project, "export/"), {"format": "jsonl", "since": since}).streaming_content)
    assert api == target.read_bytes()
    assert "As of: " in out.getvalue() and "tombstones (articles that left the selection): 1" in out.getvalue()
    manifest = orjson.loads((Path(tmp_path) / "sync.jsonl.manifest.json").read_bytes())
    assert (manifest["counts"]["articles"], manifest["deleted"]) == (1, 1)


def test_deleted_feed_roles_and_scope(project):
    annotator = client_for(member(project, ROLES.ANNOTATOR))
    other = ProjectFactory()
    outsider = client_for(member(other, ROLES.MANAGER))
    consumer = client_for(member(project, ROLES.CONSUMER))

    assert annotator.get(url(project, "deleted/")).status_code == 403
    assert outsider.get(url(project, "deleted/")).status_code == 404
    bad = consumer.get(url(project, "deleted/?since=yesterday"))
    assert bad.status_code == 400 and list(bad.data["errors"]) == ["since"]
