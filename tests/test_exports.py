"""Corpus exports: selection, splits, every format read back by a reader we didn't write."""

from __future__ import annotations

import gc
import io
import os
import random
import re
import subprocess
import sys
import zipfile
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path
from typing import Any

import orjson
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from annotations.errors import ImportFailed
from annotations.exports import splits as splitting
from annotations.exports.base import ExportOptionError
from annotations.exports.brat import fragments
from annotations.exports.runner import export_chunks, export_documents, export_request, export_stream, export_write
from annotations.exports.tokens import non_overlapping
from annotations.models import Actor, Article, Event, Layer, Mention, Project, Stance
from annotations.services.actors import actors_load_file
from annotations.services.annotated_import import corpus_import_jsonl
from annotations.services.articles import ArticleInput, articles_create
from annotations.services.imports import import_paths
from annotations.services.items import event_create, mention_create, stance_create
from annotations.services.layers import layer_for_annotator, layer_gold, layer_set_status
from annotations.services.projects import project_create
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

SEEDS = Path(settings.SEEDS_DIR)
PYTHON = sys.executable

# (pattern, label): found with word boundaries in each seed text. "Russian Federation" and
# "Russian" overlap on purpose, so the non-overlapping entity choice is exercised.
GAZETTEER = [
    ("Salifou Modi", "PERSON"),
    ("Yunus-Bek Yevkurov", "PERSON"),
    ("Yunus Bek Yevkurov", "PERSON"),
    ("Abdourahamane Tiani", "PERSON"),
    ("Lamine Zeine", "PERSON"),
    ("Wagner Group", "ORG"),
    ("Russian Federation", "GPE"),
    ("Niamey", "GPE"),
    ("Niger", "GPE"),
    ("Russia", "GPE"),
    ("Mali", "GPE"),
    ("France", "GPE"),
    ("Bamako", "GPE"),
    ("Moscow", "GPE"),
    ("Russian", "NORP"),
    ("Nigerien", "NORP"),
    ("July 26", "DATE"),
    ("Sahel", "LOC"),
]


# --- Building a corpus through the services ---------------------------------------------------


def annotate(layer: Layer) -> Layer:
    """Gazetteer mentions, AGREE/AID events on "signed"/"sent", up to two stances; all through services.

    A gold layer ends adjudicated (what a gold export takes by default).
    """
    text = layer.article.text
    niger = Actor.objects.filter(name="Niger").first()
    mentions: list[Mention] = []
    for pattern, label in GAZETTEER:
        for match in re.finditer(rf"\b{re.escape(pattern)}\b", text):
            actor = niger if pattern == "Niger" else None
            score = 0.9 if layer.kind == Layer.Kind.MACHINE else None
            mentions.append(
                mention_create(layer=layer, label=label, start=match.start(), end=match.end(), actor=actor, score=score)
            )

    def on_line(offset: int) -> list[Mention]:
        start, end = text.rfind("\n", 0, offset) + 1, text.find("\n", offset)
        end = len(text) if end < 0 else end
        return [m for m in mentions if start <= m.start and m.end <= end]

    for trigger, event_type in (("signed", "AGREE"), ("sent", "AID")):
        match = re.search(rf"\b{trigger}\b", text)
        if not match:
            continue
        near = on_line(match.start())
        actors = [m for m in near if m.label == "PERSON"][:2] or [m for m in near if m.label == "GPE"][:1]
        if not actors:
            continue
        arguments = [("actor", m.pk) for m in actors]
        recipients = [m for m in near if m.label == "GPE" and m.start > match.end() and m not in actors]
        arguments += [("recipient", m.pk) for m in recipients[:1]]
        event_create(
            layer=layer,
            event_type=event_type,
            trigger_start=match.start(),
            trigger_end=match.end(),
            mode="military" if event_type == "AID" else "",
            contexts=["military", "diplomatic"] if event_type == "AGREE" else ["military"],
            arguments=arguments,
        )
    target = next((m for m in mentions if m.text == "France"), None) or next(
        (m for m in mentions if m.text == "Russia"), None
    )
    if target is not None:
        stance_create(layer=layer, label="AGAINST", target_id=target.pk, scope="document")
    # a person's stance toward a country named on the same line, the line as evidence
    pairs = [
        (person, target)
        for person in sorted(mentions, key=lambda m: m.start)
        if person.label == "PERSON"
        for target in on_line(person.start)
        if target.label == "GPE"
    ]
    if pairs:
        holder, target = pairs[0]
        line_start = text.rfind("\n", 0, holder.start) + 1
        line_end = text.find("\n", holder.start)
        stance_create(
            layer=layer,
            label="FAVOR",
            holder_id=holder.pk,
            target_id=target.pk,
            evidence_start=line_start,
            evidence_end=len(text) if line_end < 0 else line_end,
        )
    if layer.kind == Layer.Kind.GOLD:
        layer_set_status(layer=layer, status=Layer.Status.ADJUDICATED)
    return layer


@pytest.fixture
def seeded() -> Project:
    """The five seed articles, the actor registry, and an adjudicated gold layer on each."""
    project = project_create(slug="niger", name="Niger coverage")
    report = import_paths(project=project, paths=sorted(SEEDS.glob("*.txt")))
    assert report.errors == [] and report.imported == 5
    actors_load_file(path=SEEDS / "actors.jsonl")
    for article in project.articles.order_by("id"):
        annotate(layer_gold(article=article))
    return project


def seed_article(project: Project, number: str) -> Article:
    path = next(SEEDS.glob(f"{number}_*.txt"))
    return project.articles.get(imported_from=str(path))


def stream(project: Project, **options: Any) -> bytes:
    return b"".join(export_stream(export_request(project=project, **options)))


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


def jsonl_lines(data: bytes) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in data.splitlines()]


def run(*args: str) -> str:
    out = StringIO()
    call_command("export_corpus", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def run_failing(*args: str) -> str:
    with pytest.raises(CommandError) as failure:
        call_command("export_corpus", *args, stdout=StringIO(), stderr=StringIO())
    return str(failure.value)


def reader(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a third-party reader in its own process (no network, no project settings)."""
    env = {**os.environ, "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}
    return subprocess.run([PYTHON, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=540, check=False)


# --- Native JSONL ---------------------------------------------------------------------------


def test_jsonl_line_holds_the_article_its_layer_and_positional_annotations(seeded):
    # given the seeds with gold layers
    article = seed_article(seeded, "000")

    # when the gold layer is exported as JSONL
    lines = jsonl_lines(stream(seeded, format="jsonl"))

    # then there is one line per article, in article order, keyed by content hash
    assert [line["id"] for line in lines] == list(seeded.articles.order_by("id").values_list("content_hash", flat=True))
    line = next(line for line in lines if line["id"] == article.content_hash)
    assert list(line) == sorted(line)
    assert (line["title"], line["text"], line["published"]) == (article.title, article.text, "2023-04-12")
    assert line["metadata"] == {"dateline": "Published on: April 12, 2023 – 9:04 p.m"}
    assert line["split"] in ("train", "dev", "test")
    # the story key: 000, 001 and 004 report one visit (the key of its first report); 002 is its own story
    assert line["story"] == article.story_key == article.content_hash
    stories = {
        n: next(x["story"] for x in lines if x["id"] == seed_article(seeded, n).content_hash)
        for n in ("001", "002", "004")
    }
    assert stories == {
        "001": article.content_hash,
        "002": seed_article(seeded, "002").content_hash,
        "004": article.content_hash,
    }
    adjudicated_at = article.layers.get(kind="gold").adjudicated_at
    assert line["layer"] == {
        "kind": "gold",
        "annotator": None,
        "model_version": None,
        "status": "adjudicated",
        "adjudicated_at": adjudicated_at.isoformat(),
    }
    # mentions in text order with positional ids, the quoted text and the actor link
    assert [m["id"] for m in line["mentions"]] == [f"m{i}" for i in range(len(line["mentions"]))]
    assert [(m["start"], m["end"]) for m in line["mentions"]] == sorted(
        (m["start"], m["end"]) for m in line["mentions"]
    )
    assert all(article.text[m["start"] : m["end"]] == m["text"] for m in line["mentions"])
    niger = next(m for m in line["mentions"] if m["text"] == "Niger")
    assert niger["actor"] == {"name": "Niger", "country": "NER", "sector": "GOV", "wikidata_id": "Q1032"}
    # the AGREE event on "signed": both signatories as actors, referenced by mention id
    by_id = {m["id"]: m for m in line["mentions"]}
    (agree,) = [e for e in line["events"] if e["type"] == "AGREE"]
    assert agree["trigger"]["text"] == "signed" and agree["realis"] == "actual" and agree["mode"] is None
    assert agree["contexts"] == ["military", "diplomatic"]
    assert [(a["role"], by_id[a["mention"]]["text"]) for a in agree["arguments"]] == [
        ("actor", "Salifou Modi"),
        ("actor", "Yunus Bek Yevkurov"),
    ]
    # stance: the author against Russia (no holder, no evidence), and a person's stance
    author = next(s for s in line["stances"] if s["holder"] is None)
    assert (by_id[author["target"]]["text"], author["label"], author["scope"], author["evidence"]) == (
        "Russia",
        "AGAINST",
        "document",
        None,
    )
    held = next(s for s in line["stances"] if s["holder"] is not None)
    assert by_id[held["holder"]]["label"] == "PERSON" and held["label"] == "FAVOR"
    assert article.text[held["evidence"]["start"] : held["evidence"]["end"]] == held["evidence"]["text"]


def test_jsonl_export_import_export_gives_identical_bytes(seeded, tmp_path):
    # given the JSONL export of the seeds
    first = stream(seeded, format="jsonl")
    path = tmp_path / "corpus.jsonl"
    path.write_bytes(first)

    # when it is imported into a fresh project and exported again
    fresh = project_create(slug="fresh", name="Fresh")
    outcome = corpus_import_jsonl(project=fresh, path=path)
    second = stream(fresh, format="jsonl")

    # then the bytes are identical, annotations included
    assert (outcome.articles, outcome.duplicates) == (5, [])
    assert outcome.mentions == Mention.objects.filter(layer__article__project=seeded).count()
    assert second == first
    # and importing the file again skips every article as a duplicate
    again = corpus_import_jsonl(project=fresh, path=path)
    assert (again.articles, len(again.duplicates)) == (0, 5)


def test_jsonl_carries_gold_provenance_only_where_there_is_one_and_reads_it_back(seeded, tmp_path):
    # given the JSONL export of the seeds, whose items have no provenance
    before = stream(seeded, format="jsonl")
    # and then, on one article, a reviewer's adjudication recorded on a mention, an event, a stance
    # and the layer
    rita = UserFactory(username="rita")
    gold = seed_article(seeded, "000").layers.get(kind="gold")
    provenance = {
        "strategy": "majority",
        "annotators": ["alice", "bob"],
        "reviewer": "rita",
        "at": "2024-05-01T10:00:00+00:00",
    }
    picked = {"strategy": "picked", "annotators": ["bob"], "reviewer": "rita", "at": "2024-05-01T10:01:00+00:00"}
    # (the first two mentions of Niamey decided together: the same provenance)
    niamey_two = list(gold.mentions.filter(text="Niamey").order_by("start").values_list("pk", flat=True)[:2])
    Mention.objects.filter(pk__in=niamey_two).update(provenance=provenance)
    Event.objects.filter(pk=gold.events.get(event_type="AGREE").pk).update(provenance=picked)
    Stance.objects.filter(pk=gold.stances.get(holder=None).pk).update(provenance={"strategy": "manual"})
    moment = datetime(2024, 5, 1, 10, 2, tzinfo=UTC)
    Layer.objects.filter(pk=gold.pk).update(adjudicated_by=rita, adjudicated_at=moment)

    # when the project is exported again
    after = stream(seeded, format="jsonl")

    # then only that article's line changed, and only by the provenance keys
    old_lines, new_lines = before.splitlines(), after.splitlines()
    changed = [i for i, (old, new) in enumerate(zip(old_lines, new_lines, strict=True)) if old != new]
    assert changed == [0]
    line = orjson.loads(new_lines[0])
    assert line["layer"]["adjudicated_by"] == "rita"
    assert line["layer"]["adjudicated_at"] == "2024-05-01T10:02:00+00:00"
    niamey = [m for m in line["mentions"] if "provenance" in m]
    assert [(m["text"], m["provenance"]) for m in niamey] == [("Niamey", provenance)] * 2
    assert [(e["type"], e["provenance"]) for e in line["events"] if "provenance" in e] == [("AGREE", picked)]
    assert [(s["holder"], s["provenance"]) for s in line["stances"] if "provenance" in s] == [
        (None, {"strategy": "manual"})
    ]
    for item in (*niamey, *line["events"], *line["stances"]):
        item.pop("provenance", None)
    del line["layer"]["adjudicated_by"]
    line["layer"]["adjudicated_at"] = orjson.loads(old_lines[0])["layer"]["adjudicated_at"]
    assert orjson.dumps(line, option=orjson.OPT_SORT_KEYS) == old_lines[0]

    # and imported into a fresh project and exported again, the bytes are the same: provenance,
    # reviewer and time carried back
    path = tmp_path / "corpus.jsonl"
    path.write_bytes(after)
    fresh = project_create(slug="fresh", name="Fresh")
    corpus_import_jsonl(project=fresh, path=path)
    assert stream(fresh, format="jsonl") == after
    stored = Mention.objects.filter(layer__article__project=fresh).order_by("layer", "start")
    assert [m.text for m in stored if m.provenance == provenance] == ["Niamey", "Niamey"]


def test_jsonl_import_reports_bad_lines_with_file_and_line_and_imports_nothing(seeded, tmp_path):
    # given an export whose first line points an argument at a mention that doesn't exist,
    # and whose third line has a mention with a label the schema doesn't know
    lines = jsonl_lines(stream(seeded, format="jsonl"))
    lines[0]["events"][0]["arguments"][0]["mention"] = "m999"
    lines[2]["mentions"][0]["label"] = "SPACESHIP"
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    fresh = project_create(slug="fresh", name="Fresh")

    # when it is imported
    with pytest.raises(ImportFailed) as failure:
        corpus_import_jsonl(project=fresh, path=path)

    # then both problems are named with file:line:field and nothing was stored
    assert failure.value.errors == [
        f"{path}:1:arguments: event e0: unknown mention 'm999'",
        f"{path}:3:label: mention m0: unknown entity label 'SPACESHIP'; "
        "map it with --label-map or add it to the schema",
    ]
    assert Article.objects.filter(project=fresh).count() == 0


# --- Selection ------------------------------------------------------------------------------


def test_layer_selectors_pick_annotator_machine_and_latest_layers(seeded):
    # given an annotator's layer on one article and machine layers of two versions
    alice = UserFactory(username="alice")
    first, second = seeded.articles.order_by("id")[:2]
    annotate(layer_for_annotator(article=first, annotator=alice))
    old = Layer.objects.create(article=first, kind=Layer.Kind.MACHINE, model_version="sm-1")
    annotate(old)
    new = Layer.objects.create(article=second, kind=Layer.Kind.MACHINE, model_version="sm-2")
    annotate(new)

    def exported(layer: str) -> list[tuple[str, dict[str, Any]]]:
        return [(line["id"], line["layer"]) for line in jsonl_lines(stream(seeded, format="jsonl", layer=layer))]

    # then each selector exports only the articles that have that layer
    assert exported("annotator:alice") == [
        (
            first.content_hash,
            {"kind": "annotator", "annotator": "alice", "model_version": None, "status": "in_progress"},
        )
    ]
    assert exported("machine:sm-1") == [
        (first.content_hash, {"kind": "machine", "annotator": None, "model_version": "sm-1", "status": "not_started"})
    ]
    assert [key for key, _ in exported("machine:latest")] == [second.content_hash]
    assert len(exported("gold")) == 5
    # machine scores travel with the mentions
    line = jsonl_lines(stream(seeded, format="jsonl", layer="machine:sm-2"))[0]
    assert {m["score"] for m in line["mentions"]} == {0.9}


def test_status_and_since_filters(seeded):
    # given one gold layer reopened, and one article imported later
    reopened = Layer.objects.get(article=seed_article(seeded, "003"), kind="gold")
    cutoff = timezone.now()
    layer_set_status(layer=reopened, status=Layer.Status.IN_PROGRESS)
    (late,) = articles_create(
        project=seeded, articles=[ArticleInput(title="Late", text="Niger and Russia met in Niamey again.")]
    ).imported
    annotate(layer_gold(article=late))

    # then gold exports take adjudicated layers unless asked; --status keeps only layers with that
    # status (all: any), --since only articles whose layer changed after it, then a tombstone for
    # the layer reopened since (it left the adjudicated selection)
    default = jsonl_lines(stream(seeded, format="jsonl"))
    assert len(default) == 5 and reopened.article.content_hash not in {line["id"] for line in default}
    assert jsonl_lines(stream(seeded, format="jsonl", status="adjudicated")) == default
    assert len(jsonl_lines(stream(seeded, format="jsonl", status="all"))) == 6
    in_progress = jsonl_lines(stream(seeded, format="jsonl", status="in_progress"))
    assert [line["id"] for line in in_progress] == [reopened.article.content_hash]
    recent = jsonl_lines(stream(seeded, format="jsonl", since=cutoff.isoformat()))
    assert [line.get("id") or line["key"] for line in recent] == [late.content_hash, reopened.article.content_hash]
    assert recent[1]["deleted"] is True
    assert jsonl_lines(stream(seeded, format="jsonl", since="2999-01-01")) == []


def _corpus(project: Project, count: int) -> None:
    base = (SEEDS / "000_238f7cd63fdac120.txt").read_text(encoding="utf-8")
    inputs = [ArticleInput(title=f"Copy {i}", text=f"Story number {i} of {count}.\n{base}") for i in range(count)]
    for article in articles_create(project=project, articles=inputs).imported:
        annotate(layer_gold(article=article))


def test_export_queries_do_not_grow_with_the_number_of_articles(django_assert_max_num_queries):
    # given a project with 3 annotated articles and one with 12
    small, large = project_create(slug="small", name="Small"), project_create(slug="large", name="Large")
    _corpus(small, 3)
    _corpus(large, 12)

    def queries(project: Project) -> int:
        request = export_request(project=project, format="jsonl", batch_size=5)
        with CaptureQueriesContext(connection) as captured:
            documents = list(export_documents(request))
        assert documents and all(d["mentions"] and d["events"] and d["stances"] for d in documents)
        return len(captured)

    # then reading all articles costs a fixed number of queries per batch of 5, never per article:
    # one aggregate of story sizes for the split assignment (no article text), then per batch:
    # layers, mentions, events, arguments, stances (5)
    assert queries(small) == 1 + 5
    assert queries(large) == 1 + 3 * 5
    # and with the default batch size, 12 articles are read in one batch, the labels included, plus
    # one page of what exports.event_data adds (source checks, date values, event dates and clusters: 3)
    with django_assert_max_num_queries(12):
        assert len(stream(large, format="hf")) > 0


def test_an_export_abandoned_halfway_gives_the_connection_back(seeded):
    # given an export read two layers at a time (so a next batch is being read ahead)
    documents = export_documents(export_request(project=seeded, format="jsonl", batch_size=2))

    # when the consumer stops after the first document (a client that disconnects)
    assert next(documents)["id"]
    documents.close()

    # then the connection is this thread's alone again, and usable
    assert not connection.allow_thread_sharing
    assert Article.objects.filter(project=seeded).count() == 5


def test_an_export_keeps_the_process_objects_out_of_garbage_collection_only_while_it_runs(seeded):
    # given two exports read two layers at a time, started one after the other
    assert gc.get_freeze_count() == 0
    first = export_documents(export_request(project=seeded, format="jsonl", batch_size=2))
    second = export_documents(export_request(project=seeded, format="jsonl", batch_size=2))

    # when both are under way, what existed before them is frozen (left out of collections)
    assert next(first)["id"] and next(second)["id"]
    assert gc.get_freeze_count() > 0

    # then it stays frozen while one of them still runs, and is collected again once both ended,
    # whether an export ran to its end or was abandoned (a client that disconnected)
    assert len(list(first)) == 4
    assert gc.get_freeze_count() > 0
    second.close()
    assert gc.get_freeze_count() == 0


# --- Splits ---------------------------------------------------------------------------------


def test_split_for_key_is_deterministic_and_follows_the_ratios():
    keys = [f"{i:064x}" for i in range(3000)]
    counts = Counter(splitting.split_for_key(k, splitting.DEFAULT_RATIOS) for k in keys)
    assert [splitting.split_for_key(k, splitting.DEFAULT_RATIOS) for k in keys[:50]] == [
        splitting.split_for_key(k, splitting.DEFAULT_RATIOS) for k in keys[:50]
    ]
    assert 0.77 < counts["train"] / 3000 < 0.83 and 0.08 < counts["dev"] / 3000 < 0.12
    assert {splitting.split_for_key(k, splitting.Ratios(1, 0, 0)) for k in keys} == {"train"}
    assert {splitting.split_for_key(k, splitting.Ratios(0, 0, 1)) for k in keys} == {"test"}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0.8,0.1", "ratios: expected three numbers train,dev,test such as 0.8,0.1,0.1; got '0.8,0.1'"),
        ("0.8,0.1,0.2", "ratios: train, dev and test must add up to 1, they add up to 1.1"),
        ("1.2,-0.1,-0.1", "ratios: the dev ratio must be a number from 0 to 1, got '-0.1'"),
        ("0.8,ten,0.1", "ratios: the dev ratio 'ten' is not a number"),
        ("nan,0,1", "ratios: the train ratio must be a number from 0 to 1, got 'nan'"),
    ],
)
def test_malformed_ratios_are_rejected_naming_the_option(value, message):
    with pytest.raises(ExportOptionError) as failure:
        splitting.parse_ratios(value)
    assert str(failure.value) == message


def test_the_seed_reports_of_one_visit_share_a_split_and_no_split_is_empty(seeded):
    # given the seeds: 000, 001 and 004 report the same Niamey visit, each in its own words
    keys = {number: seed_article(seeded, number).content_hash for number in ("000", "001", "002", "003", "004")}

    for ratios in ("0.8,0.1,0.1", "0.34,0.33,0.33", "0.1,0.1,0.8", "0.2,0.6,0.2"):
        # when the project is exported
        split_of = {line["id"]: line["split"] for line in jsonl_lines(stream(seeded, format="jsonl", ratios=ratios))}

        # then the three reports are in one split, and each split has a story (three stories, three splits)
        assert len({split_of[keys[n]] for n in ("000", "001", "004")}) == 1
        assert sorted(Counter(split_of.values()).values()) == [1, 1, 3]

    # with the default ratios the story of three reports is the train split: 3/1/1, not 2/0/3 as by hash alone
    split_of = {line["id"]: line["split"] for line in jsonl_lines(stream(seeded, format="jsonl"))}
    assert {split_of[keys[n]] for n in ("000", "001", "004")} == {"train"}
    assert {split_of[keys["002"]], split_of[keys["003"]]} == {"dev", "test"}


def _edited(text: str, changes: int, seed: int) -> str:
    rng = random.Random(seed)
    words = text.split(" ")
    for i in rng.sample(range(len(words)), changes):
        words[i] = rng.choice(["reportedly", "officially", "indeed", "also"])
    return " ".join(words)


@pytest.mark.parametrize("ratios", ["0.8,0.1,0.1", "0.1,0.1,0.8"])
def test_an_exported_copy_of_a_seed_shares_its_split(seeded, ratios):
    # given a lightly edited copy of seed 000 in the project, with its own gold layer
    original = seed_article(seeded, "000")
    (copy,) = articles_create(
        project=seeded, articles=[ArticleInput(title="Copy", text=_edited(original.text, 4, seed=3))]
    ).imported
    annotate(layer_gold(article=copy))

    # when the project is exported
    split_of = {line["id"]: line["split"] for line in jsonl_lines(stream(seeded, format="jsonl", ratios=ratios))}

    # then the copy is in the split of the original
    assert split_of[copy.content_hash] == split_of[original.content_hash]


def test_splits_ignore_the_layer_and_period_exported(seeded):
    # the split of an article is the same in a gold export and in a one-split export
    gold = {line["id"]: line["split"] for line in jsonl_lines(stream(seeded, format="jsonl"))}
    for split in ("train", "dev", "test"):
        only = jsonl_lines(stream(seeded, format="jsonl", split=split))
        assert {line["id"] for line in only} == {key for key, s in gold.items() if s == split}


# --- Token alignment ------------------------------------------------------------------------


def test_non_overlapping_prefers_longer_then_earlier_spans():
    spans = [("a", 0, 1), ("b", 0, 2), ("c", 1, 3), ("d", 3, 4), ("e", 3, 4)]
    assert non_overlapping(spans) == ["b", "d"]


def test_brat_fragments_split_spans_at_line_breaks():
    text = "The Russian\nFederation signed.\tYes"
    assert fragments(text, 4, 22) == [(4, 11), (12, 22)]
    assert fragments(text, 23, 34) == [(23, 30), (31, 34)]


# --- spaCy ----------------------------------------------------------------------------------


@pytest.fixture
def ner_config(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("spacy-config")
    result = reader(
        "-m", "spacy", "init", "config", "ner.cfg", "--pipeline", "ner", "--lang", "en", "--force", cwd=folder
    )
    assert result.returncode == 0, result.stderr
    return folder / "ner.cfg"


def _export_folder(project: Project, fmt: str, out: Path, **options: Any) -> Path:
    export_write(export_request(project=project, format=fmt, **options), out)
    return out


def test_spacy_docbin_holds_ents_spans_and_events(seeded, tmp_path):
    from spacy.tokens import DocBin

    from annotations.exports.tokens import segmenter

    # when the seeds are exported as spaCy DocBins, all in train
    out = _export_folder(seeded, "spacy", tmp_path / "spacy", ratios="1,0,0")

    # then every split has a folder of parts, and the docs carry the annotations
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.spacy")) == [
        "dev/part-00000.spacy",
        "test/part-00000.spacy",
        "train/part-00000.spacy",
    ]
    docs = list(DocBin().from_disk(out / "train" / "part-00000.spacy").get_docs(segmenter().vocab))
    assert len(docs) == 5 and len(DocBin().from_disk(out / "dev" / "part-00000.spacy")) == 0
    doc = next(d for d in docs if d.user_data["workbench"]["id"] == seed_article(seeded, "000").content_hash)
    data = doc.user_data["workbench"]
    assert doc.text == seed_article(seeded, "000").text
    assert len(doc.spans["sc"]) == len(data["mentions"]) >= len(doc.ents) > 0
    assert ("Russian Federation", "GPE") not in [(e.text, e.label_) for e in doc.ents]  # not in this seed
    assert {(e.text, e.label_) for e in doc.ents} >= {("Salifou Modi", "PERSON"), ("Niamey", "GPE")}
    (agree,) = [e for e in data["events"] if e["type"] == "AGREE"]
    start, end = agree["trigger_tokens"]
    assert doc[start:end].text == "signed"
    assert data["layer"]["kind"] == "gold" and data["stances"]


def test_spacy_ents_drop_the_shorter_of_overlapping_mentions(seeded, tmp_path):
    from spacy.tokens import DocBin

    from annotations.exports.tokens import segmenter

    out = _export_folder(seeded, "spacy", tmp_path / "spacy", ratios="1,0,0")
    docs = list(DocBin().from_disk(out / "train" / "part-00000.spacy").get_docs(segmenter().vocab))
    doc = next(d for d in docs if "Russian Federation" in d.text)
    spans = {(s.text, s.label_) for s in doc.spans["sc"]}
    ents = {(e.text, e.label_) for e in doc.ents}
    assert {("Russian Federation", "GPE"), ("Russian", "NORP")} <= spans
    assert ("Russian Federation", "GPE") in ents
    assert all(e.text != "Russian" or doc[e.end].text != "Federation" for e in doc.ents)


@pytest.fixture
def sentence_corpus() -> Project:
    """Every sentence of the seeds (of four words or more) as an article with a gold layer:
    `spacy debug data` wants at least 100 training documents for a new pipeline."""
    project = project_create(slug="sentences", name="Seed sentences")
    sentences = {
        sentence
        for path in sorted(SEEDS.glob("*.txt"))
        for line in path.read_text(encoding="utf-8").split("\n")
        for sentence in re.split(r"(?<=[.!?])\s+", line.strip())
        if len(sentence.split()) >= 4
    }
    inputs = [ArticleInput(title=s[:60], text=s) for s in sorted(sentences)]
    for article in articles_create(project=project, articles=inputs).imported:
        annotate(layer_gold(article=article))
    return project


def test_spacy_train_and_debug_data_accept_the_docbins(sentence_corpus, tmp_path, ner_config):
    # given the seed sentences exported as DocBins (all in train; dev reads the same folder)
    out = _export_folder(sentence_corpus, "spacy", tmp_path / "corpus", ratios="1,0,0")
    paths = ["--paths.train", str(out / "train"), "--paths.dev", str(out / "train")]

    # when spaCy checks the data and trains a few steps on it
    debug = reader("-m", "spacy", "debug", "data", str(ner_config), *paths, cwd=tmp_path)
    train = reader(
        "-m",
        "spacy",
        "train",
        str(ner_config),
        *paths,
        "--training.max_steps",
        "5",
        "--training.eval_frequency",
        "5",
        "--output",
        str(tmp_path / "model"),
        cwd=tmp_path,
    )

    # then both succeed and a model is written
    assert debug.returncode == 0, debug.stdout + debug.stderr
    assert "119 training docs" in debug.stdout
    assert train.returncode == 0, train.stdout + train.stderr
    assert (tmp_path / "model" / "model-last" / "meta.json").exists()


# --- CoNLL ----------------------------------------------------------------------------------


def test_conll_is_read_by_spacy_convert(seeded, tmp_path):
    from spacy.tokens import DocBin

    from annotations.exports.tokens import segmenter

    # given the seeds as one CoNLL file
    path = tmp_path / "train.conll"
    export_write(export_request(project=seeded, format="conll", split="train", ratios="1,0,0"), path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("-DOCSTART- -X- O O\n\n") and text.count("-DOCSTART- -X- O O") == 5
    assert "Salifou -X- _ B-PERSON\nModi -X- _ I-PERSON\n" in text
    assert all(len(line.split()) == 4 for line in text.splitlines() if line)

    # when spaCy converts it
    result = reader("-m", "spacy", "convert", str(path), str(tmp_path), "--converter", "ner", cwd=tmp_path)

    # then it reads five documents with the same entities as the DocBin export
    assert result.returncode == 0, result.stdout + result.stderr
    converted = list(DocBin().from_disk(tmp_path / "train.spacy").get_docs(segmenter().vocab))
    out = _export_folder(seeded, "spacy", tmp_path / "spacy", ratios="1,0,0")
    native = list(DocBin().from_disk(out / "train" / "part-00000.spacy").get_docs(segmenter().vocab))
    assert len(converted) == 5
    assert [[([t.text for t in e], e.label_) for e in d.ents] for d in converted] == [
        [([t.text for t in e if not t.is_space], e.label_) for e in d.ents] for d in native
    ]
    assert [len(list(d.sents)) for d in converted] == [
        len([s for s in d.sents if any(not t.is_space for t in s)]) for d in native
    ]


def test_conll_for_all_splits_is_a_zip_of_one_file_per_split(seeded):
    files = members(stream(seeded, format="conll"))
    assert sorted(files) == ["dev.conll", "manifest.json", "test.conll", "train.conll"]
    assert sum(f.count(b"-DOCSTART-") for f in files.values()) == 5


# --- Hugging Face ---------------------------------------------------------------------------


def test_hf_export_loads_with_datasets_and_declared_features(seeded, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import datasets

    # given the seeds exported for Hugging Face (all in train)
    out = _export_folder(seeded, "hf", tmp_path / "hf", ratios="1,0,0")
    labels = orjson.loads((out / "labels.json").read_bytes())
    assert labels[:3] == ["O", "B-PERSON", "I-PERSON"] and len(labels) == 21

    # when datasets loads it with the declared features
    features = datasets.Features(
        {
            "id": datasets.Value("string"),
            "tokens": datasets.Sequence(datasets.Value("string")),
            "ner_tags": datasets.Sequence(datasets.ClassLabel(names=labels)),
        }
    )
    loaded = datasets.load_dataset(
        "json",
        data_files={"train": str(out / "train.jsonl")},
        features=features,
        cache_dir=str(tmp_path / "cache"),
    )

    # then every sentence is there (one per CoNLL sentence) and tags decode to IOB2 labels
    train = loaded["train"]
    conll = b"".join(export_stream(export_request(project=seeded, format="conll", split="train", ratios="1,0,0")))
    assert train.num_rows == conll.count(b"\n\n") - 5
    assert (out / "test.jsonl").read_bytes() == b""
    names = train.features["ner_tags"].feature.names
    row = next(r for r in train if "Salifou" in r["tokens"])
    i = row["tokens"].index("Salifou")
    assert [names[t] for t in row["ner_tags"][i : i + 2]] == ["B-PERSON", "I-PERSON"]
    assert all(len(r["tokens"]) == len(r["ner_tags"]) > 0 for r in train)


# --- brat -----------------------------------------------------------------------------------


def _parse_ann(ann: str) -> list[Any]:
    """Parse a .ann with bratly's annotation types, line by line (T before E, A, R)."""
    import bratly

    entities: dict[str, Any] = {}
    parsed: list[Any] = []
    lines = ann.splitlines()
    for line in lines:
        if line.startswith("T"):
            entity = bratly.EntityAnnotation.from_line(line)
            entities[entity.id] = entity
            parsed.append(entity)
    events: dict[str, Any] = {}
    for line in lines:
        if line.startswith("E"):
            event = bratly.EventAnnotation.from_line(line, entities)
            events[event.id] = event
            parsed.append(event)
    for line in lines:
        if line.startswith("R"):
            parsed.append(bratly.RelationAnnotation.from_line(line, entities))
        elif line.startswith("A"):
            parsed.append(bratly.AttributeAnnotation.from_line(line, {**entities, **events}))
        elif line.startswith("#"):  # a DATE mention's value
            parsed.append(bratly.NoteAnnotation.from_line(line, entities))
        else:
            assert line[0] in "TE", line
    return parsed


def test_brat_standoff_is_parsed_by_bratly(seeded, tmp_path):
    import bratly

    # given a mention that spans a line break, in an extra article
    (extra,) = articles_create(
        project=seeded, articles=[ArticleInput(title="Extra", text="The Russian\nFederation signed with Niger.")]
    ).imported
    layer = layer_gold(article=extra)
    federation = mention_create(layer=layer, label="GPE", start=4, end=22)
    niger = mention_create(layer=layer, label="GPE", start=35, end=40)
    event_create(
        layer=layer,
        event_type="AGREE",
        trigger_start=23,
        trigger_end=29,
        arguments=[("actor", federation.pk), ("actor", niger.pk)],
    )
    layer_set_status(layer=layer, status=Layer.Status.ADJUDICATED)

    # when the project is exported as brat
    out = _export_folder(seeded, "brat", tmp_path / "brat")

    # then annotation.conf declares the schema and every .ann parses and matches its .txt
    conf = (out / "annotation.conf").read_text(encoding="utf-8")
    assert "[entities]\nPERSON\nORG\n" in conf
    assert "AGREE actor+:GPE|NORP|ORG|PERSON, recipient*:GPE|NORP|ORG|PERSON, place?:FAC|GPE|LOC" in conf
    assert "Mode Arg:<EVENT>, Value:visit|third-party|multilateral|phone|" in conf
    anns = sorted(out.rglob("*.ann"))
    assert len(anns) == 6 and len(list(out.rglob("*.txt"))) == 6
    kinds: Counter[str] = Counter()
    for ann in anns:
        parsed = _parse_ann(ann.read_text(encoding="utf-8"))
        kinds.update(type(a).__name__ for a in parsed)
        document = bratly.Document(
            fullpath=str(ann.with_suffix(".txt")),
            annotation_collections=[bratly.AnnotationCollection(annotations=parsed)],
        )
        assert document.check_ann_compatibility_with_txt(), ann
    assert {"EntityAnnotation", "EventAnnotation", "AttributeAnnotation", "RelationAnnotation"} <= set(kinds)
    ann = next(p for p in anns if p.stem == extra.content_hash).read_text(encoding="utf-8")
    assert ann.splitlines()[:4] == [
        "T1\tGPE 4 11;12 22\tRussian Federation",
        "T2\tGPE 35 40\tNiger",
        "T3\tAGREE 23 29\tsigned",
        "E1\tAGREE:T3 actor:T1 actor2:T2",
    ]


def test_a_brat_export_with_trigger_only_events_loads_in_bratly_and_says_what_it_left_out(seeded, tmp_path):
    import json

    # given an event with no argument (a machine suggestion for "the coup", say) beside a full one
    (extra,) = articles_create(
        project=seeded, articles=[ArticleInput(title="Coup", text="Since the coup, Niger signed with Mali.")]
    ).imported
    layer = layer_gold(article=extra)
    niger = mention_create(layer=layer, label="GPE", start=16, end=21)
    mali = mention_create(layer=layer, label="GPE", start=34, end=38)
    event_create(layer=layer, event_type="SEIZE_POWER", trigger_start=10, trigger_end=14, not_stated=["actor"])
    event_create(
        layer=layer,
        event_type="AGREE",
        trigger_start=22,
        trigger_end=28,
        arguments=[("actor", niger.pk), ("actor", mali.pk)],
    )
    layer_set_status(layer=layer, status=Layer.Status.ADJUDICATED)

    # when the project is exported as brat
    out = _export_folder(seeded, "brat", tmp_path / "brat")

    # then every line of every .ann parses with bratly (an argument-less E line would make it refuse the file),
    anns = {p.stem: p.read_text(encoding="utf-8") for p in out.rglob("*.ann")}
    for text in anns.values():
        _parse_ann(text)
    lines = anns[extra.content_hash].splitlines()
    # the trigger span stays, only the argument-less event line goes, and the manifest says so
    assert "T3\tSEIZE_POWER 10 14\tcoup" in lines
    assert [line.split("\t")[1].split(" ")[0] for line in lines if line.startswith("E")] == ["AGREE:T4"]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert "without arguments: written with their trigger only" in json.dumps(manifest)


def test_a_brat_export_gives_every_requested_split_its_folder_an_empty_one_too(seeded, tmp_path):
    # when everything goes to train (dev and test come out empty)
    out = _export_folder(seeded, "brat", tmp_path / "brat", ratios="1,0,0")

    # then dev/ and test/ are there all the same, with the configuration brat reads
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["dev", "test", "train"]
    assert [p.name for p in (out / "dev").iterdir()] == ["annotation.conf"]
    assert [p.name for p in (out / "test").iterdir()] == ["annotation.conf"]
    assert len(list((out / "train").glob("*.ann"))) == seeded.articles.count()


# --- DyGIE++ --------------------------------------------------------------------------------


def validate_dygie(document: dict[str, Any]) -> None:
    """Strict DyGIE++ checks: document-level inclusive indices inside their sentence, one-word triggers,
    event arguments and relation ends on NER spans of the same sentence."""
    assert set(document) == {"doc_key", "dataset", "sentences", "ner", "relations", "events"}
    assert isinstance(document["doc_key"], str) and document["doc_key"]
    assert isinstance(document["dataset"], str) and document["dataset"]
    sentences = document["sentences"]
    assert isinstance(sentences, list) and sentences
    for field in ("ner", "relations", "events"):
        assert isinstance(document[field], list) and len(document[field]) == len(sentences), field
    offset = 0
    for i, sentence in enumerate(sentences):
        assert isinstance(sentence, list) and sentence
        assert all(isinstance(w, str) and w and not any(c.isspace() for c in w) for w in sentence)
        low, high = offset, offset + len(sentence) - 1

        def inside(start: Any, end: Any, low: int = low, high: int = high) -> bool:
            return isinstance(start, int) and isinstance(end, int) and low <= start <= end <= high

        spans = set()
        for entry in document["ner"][i]:
            assert len(entry) == 3 and inside(entry[0], entry[1]) and isinstance(entry[2], str) and entry[2]
            assert (entry[0], entry[1]) not in spans, "one label per span"
            spans.add((entry[0], entry[1]))
        for relation in document["relations"][i]:
            assert len(relation) == 5 and isinstance(relation[4], str)
            assert (relation[0], relation[1]) in spans and (relation[2], relation[3]) in spans
        triggers = set()
        for event in document["events"][i]:
            trigger, *arguments = event
            assert len(trigger) == 2 and inside(trigger[0], trigger[0]) and isinstance(trigger[1], str)
            assert trigger[0] not in triggers, "one event type per trigger word"
            triggers.add(trigger[0])
            for argument in arguments:
                assert len(argument) == 3 and (argument[0], argument[1]) in spans and isinstance(argument[2], str)
        offset += len(sentence)


def test_dygie_documents_pass_the_strict_validator(seeded):
    files = members(stream(seeded, format="dygie"))
    assert sorted(files) == ["dev.json", "manifest.json", "test.json", "train.json"]
    del files["manifest.json"]
    documents = [orjson.loads(line) for data in files.values() for line in data.splitlines()]
    assert len(documents) == 5
    for document in documents:
        validate_dygie(document)
    # every event (all have one-sentence triggers here) and the person-held stances come through
    native = jsonl_lines(stream(seeded, format="jsonl"))
    assert sum(len(e) for d in documents for e in d["events"]) == sum(len(d["events"]) for d in native) == 3
    assert sum(len(r) for d in documents for r in d["relations"]) >= 1
    by_key = {d["doc_key"]: d for d in documents}
    document = by_key[seed_article(seeded, "000").content_hash]
    words = [w for s in document["sentences"] for w in s]
    (agree,) = [e for s in document["events"] for e in s if e[0][1] == "AGREE"]
    assert words[agree[0][0]] == "signed"
    assert [(" ".join(words[a : b + 1]), role) for a, b, role in agree[1:]] == [
        ("Salifou Modi", "actor"),
        ("Yunus Bek Yevkurov", "actor"),
    ]


def test_dygie_validator_rejects_broken_documents():
    good = {
        "doc_key": "k",
        "dataset": "d",
        "sentences": [["Russia", "helps"], ["Niger", "."]],
        "ner": [[[0, 0, "GPE"]], [[2, 2, "GPE"]]],
        "relations": [[], []],
        "events": [[[[1, "AID"], [0, 0, "actor"]]], []],
    }
    validate_dygie(good)
    broken = [
        {**good, "ner": [[[0, 0, "GPE"]], [[0, 0, "GPE"]]]},  # sentence-local index
        {**good, "ner": [[[0, 2, "GPE"]], []]},  # crosses the sentence
        {**good, "events": [[[[0, "AID"], [2, 2, "recipient"]]], []]},  # argument in another sentence
        {**good, "ner": [[[0, 0, "GPE"]]]},  # lists don't align
    ]
    for document in broken:
        with pytest.raises(AssertionError):
            validate_dygie(document)


# --- Byte stability and the command ---------------------------------------------------------


@pytest.mark.parametrize("fmt", ["jsonl", "spacy", "conll", "brat", "dygie", "hf"])
def test_every_format_gives_the_same_bytes_twice_and_the_command_writes_them(seeded, tmp_path, fmt):
    first = stream(seeded, format=fmt)
    assert first == stream(seeded, format=fmt)
    out = tmp_path / ("export.jsonl" if fmt == "jsonl" else "export.zip")
    output = run("--project", "niger", "--format", fmt, "--out", str(out))
    assert out.read_bytes() == first
    assert f"Exported niger (gold, {fmt}, splits train+dev+test) to file {out}" in output


def test_requests_name_their_download(seeded):
    def described(**options: Any) -> tuple[str, str]:
        request = export_request(project=seeded, **options)
        return request.filename, request.media_type

    assert described(format="jsonl") == ("niger-gold-jsonl.jsonl", "application/x-ndjson")
    assert described(format="conll", split="train") == ("niger-gold-conll-train.conll", "text/plain")
    assert described(format="conll") == ("niger-gold-conll.zip", "application/zip")
    assert described(format="spacy", split="train,dev") == ("niger-gold-spacy-train+dev.zip", "application/zip")
    assert described(format="dygie", layer="machine:sm-1", split="test") == (
        "niger-machine-sm-1-dygie-test.json",
        "application/x-ndjson",
    )


def test_command_unpacks_archives_into_a_folder(seeded, tmp_path):
    out = tmp_path / "hf"
    output = run("--project", "niger", "--format", "hf", "--out", str(out), "--split", "train", "--ratios", "1,0,0")
    assert sorted(p.name for p in out.iterdir()) == ["labels.json", "manifest.json", "train.jsonl"]
    assert members(stream(seeded, format="hf", split="train", ratios="1,0,0")) == {
        "labels.json": (out / "labels.json").read_bytes(),
        "train.jsonl": (out / "train.jsonl").read_bytes(),
        "manifest.json": (out / "manifest.json").read_bytes(),
    }
    assert "to folder" in output


def test_an_annotator_without_layers_gives_an_empty_but_valid_export(seeded, tmp_path):
    MembershipFactory(project=seeded, user=UserFactory(username="bob"), role="annotator")
    assert stream(seeded, format="jsonl", layer="annotator:bob") == b""
    conll = members(stream(seeded, format="conll", layer="annotator:bob"))
    manifest = orjson.loads(conll.pop("manifest.json"))
    assert conll == {"train.conll": b"", "dev.conll": b"", "test.conll": b""}
    assert manifest["counts"] == {"articles": 0, "mentions": 0, "events": 0, "arguments": 0, "stances": 0,
                                  "splits": {"train": 0, "dev": 0, "test": 0}}  # fmt: skip
    assert manifest["split_assignment"]["empty"] == ["train", "dev", "test"] and len(manifest["warnings"]) == 3
    hf = members(stream(seeded, format="hf", layer="annotator:bob"))
    assert sorted(hf) == ["dev.jsonl", "labels.json", "manifest.json", "test.jsonl", "train.jsonl"]
    assert hf["train.jsonl"] == b""
    brat = members(stream(seeded, format="brat", layer="annotator:bob"))
    assert list(brat) == [
        "annotation.conf",
        "train/annotation.conf",
        "dev/annotation.conf",
        "test/annotation.conf",
        "manifest.json",
    ]  # every split's folder, even empty
    out = _export_folder(seeded, "spacy", tmp_path / "spacy", layer="annotator:bob")
    assert len(list(out.rglob("*.spacy"))) == 3
    assert stream(seeded, format="jsonl", layer="machine:latest") == b""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--format", "xml"],
            "--format: unknown format 'xml'; formats: jsonl, spacy, conll, brat, dygie, hf, events, events-csv",
        ),
        (["--layer", "silver"], "--layer: 'silver' is not a layer selector; use gold, annotator:USERNAME,"),
        (["--layer", "annotator:"], "--layer: 'annotator:' is not a layer selector"),
        (["--layer", "annotator:nobody"], "--layer: no annotator named 'nobody' in project 'niger'"),
        (["--ratios", "0.5,0.5,0.5"], "--ratios: train, dev and test must add up to 1, they add up to 1.5"),
        (["--ratios", "1.1,-0.1,0"], "--ratios: the dev ratio must be a number from 0 to 1, got '-0.1'"),
        (["--ratios", "a,b,c"], "--ratios: the train ratio 'a' is not a number"),
        (["--since", "last tuesday"], "--since: 'last tuesday' is not an ISO date or date-time"),
        (["--split", "validation"], "--split: unknown split 'validation'; use train, dev, test or all"),
        (["--status", "finished"], "--status: unknown layer status 'finished'; allowed: not_started,"),
    ],
)
def test_command_rejects_bad_options_naming_them(seeded, tmp_path, args, message):
    out = tmp_path / "out.jsonl"
    base = {"--format": "jsonl"}
    options = [*(x for k, v in base.items() if k not in args for x in (k, v)), *args]
    assert run_failing("--project", "niger", "--out", str(out), *options).startswith(message)
    assert not out.exists()


def test_command_rejects_an_unknown_project(tmp_path):
    project_create(slug="niger", name="Niger")
    message = run_failing("--project", "mali", "--format", "jsonl", "--out", str(tmp_path / "x.jsonl"))
    assert message == "unknown project 'mali'; nothing exported. Projects: niger"


def test_zip_stream_is_lazy_and_in_pieces(seeded):
    # the first bytes come before the writer has read every document
    request = export_request(project=seeded, format="brat")
    pieces = export_stream(request)
    first = next(pieces)
    assert first.startswith(b"PK\x03\x04")
    assert all(isinstance(piece, bytes) for piece in pieces)


def _names(chunks: Iterable[Any]) -> list[str]:
    return list(dict.fromkeys(chunk.member for chunk in chunks))


def test_spacy_parts_hold_at_most_part_docs(seeded, monkeypatch):
    from annotations.exports import spacy_docbin

    monkeypatch.setattr(spacy_docbin, "PART_DOCS", 2)
    names = _names(export_chunks(export_request(project=seeded, format="spacy", ratios="1,0,0")))
    assert names == [
        "train/part-00000.spacy",
        "train/part-00001.spacy",
        "train/part-00002.spacy",
        "dev/part-00000.spacy",
        "test/part-00000.spacy",
        "labels/ner.json",
        "labels/spancat.json",
        "config.cfg",
        "manifest.json",
    ]


# --- Split assignment, manifest, overlap rules ----------------------------------------------


def test_assign_splits_keeps_stories_whole_fills_every_split_and_is_deterministic():
    ratios = splitting.DEFAULT_RATIOS
    # three stories for three splits: each split gets one, the largest goes to train
    small = splitting.assign_splits([("a", 3), ("b", 1), ("c", 1)], ratios)
    assert small.of_story["a"] == "train" and dict(small.articles) == {"train": 3, "dev": 1, "test": 1}
    assert small.empty_splits() == []
    # one story can't fill three splits: the assignment says which stay empty
    alone = splitting.assign_splits([("a", 4)], ratios)
    assert alone.empty_splits() == ["dev", "test"] and alone.empty_splits(["train"]) == []
    # a zero ratio is not a requested split
    assert splitting.assign_splits([("a", 1), ("b", 1)], splitting.Ratios(1, 0, 0)).empty_splits() == []

    rng = random.Random(5)
    sizes = [(f"story-{i}", 1 if rng.random() < 0.8 else rng.randint(2, 9)) for i in range(3000)]
    first = splitting.assign_splits(sizes, ratios)
    # same input (in any order) and seed: same assignment; another seed: another one
    assert splitting.assign_splits(list(reversed(sizes)), ratios).of_story == first.of_story
    assert splitting.assign_splits(sizes, ratios, seed=7).of_story != first.of_story
    # realised article ratios within a story of the requested ones
    total = sum(size for _, size in sizes)
    for split in ("train", "dev", "test"):
        assert abs(first.articles[split] - ratios.of(split) * total) <= 9
    # most stories stay in the split of their hash; adding 30 stories moves few of the others
    assert first.moved < 30
    grown = splitting.assign_splits([*sizes, *((f"new-{i}", 1) for i in range(30))], ratios)
    assert sum(grown.of_story[key] != split for key, split in first.of_story.items()) <= 30


def test_the_one_split_exports_add_up_to_the_all_split_export(seeded):
    everything = jsonl_lines(stream(seeded, format="jsonl", seed=3))
    parts = [jsonl_lines(stream(seeded, format="jsonl", seed=3, split=split)) for split in ("train", "dev", "test")]
    assert sorted(line["id"] for part in parts for line in part) == sorted(line["id"] for line in everything)
    assert all(
        line["split"] == split for part, split in zip(parts, ("train", "dev", "test"), strict=True) for line in part
    )


def _overlapping_mentions(project: Project) -> int:
    """Mentions inside a longer one in the gold layers (the seeds: "Russian" in "Russian Federation")."""
    count = 0
    for line in jsonl_lines(stream(project, format="jsonl")):
        spans = [(m["start"], m["end"]) for m in line["mentions"]]
        count += sum(any(s <= start and end <= e and (s, e) != (start, end) for s, e in spans) for start, end in spans)
    return count


def test_archives_carry_a_manifest_of_counts_labels_languages_and_what_was_left_out(seeded):
    # when the seeds are exported as CoNLL, all splits
    files = members(stream(seeded, format="conll"))
    manifest = orjson.loads(files["manifest.json"])
    native = jsonl_lines(stream(seeded, format="jsonl"))

    # then the counts are those of the source, per split, label and language
    assert manifest["complete"] is True
    assert manifest["counts"] == {
        "articles": 5,
        "mentions": sum(len(line["mentions"]) for line in native),
        "events": sum(len(line["events"]) for line in native),
        "arguments": sum(len(e["arguments"]) for line in native for e in line["events"]),
        "stances": sum(len(line["stances"]) for line in native),
        "splits": {"train": 3, "dev": 1, "test": 1},
    }
    assert manifest["labels"]["mentions"] == dict(
        sorted(Counter(m["label"] for x in native for m in x["mentions"]).items())
    )
    assert manifest["labels"]["events"] == {"AGREE": 2, "AID": 1}
    assert manifest["languages"] == {"en": 5}
    assert manifest["split_assignment"]["stories"] == {"train": 1, "dev": 1, "test": 1}
    assert (manifest["overlap"], manifest["format"], manifest["warnings"]) == ("longest", "conll", [])
    # what CoNLL has no room for, with the reason
    dropped = {entry["what"] + ": " + entry["reason"]: entry["count"] for entry in manifest["dropped"]}
    overlapped = _overlapping_mentions(seeded)
    assert overlapped > 0
    assert dropped["mentions: overlapped a longer one (kept the longer): left out of the IOB tags"] == overlapped
    assert dropped["events: have no CoNLL form (the JSONL export keeps them)"] == manifest["counts"]["events"]
    # and the keys of each file's documents in -DOCSTART- order: the JSONL order of the split
    for split in ("train", "dev", "test"):
        keys = manifest["documents"][f"{split}.conll"]
        assert keys == [line["id"] for line in native if line["split"] == split]
        assert files[f"{split}.conll"].count(b"-DOCSTART-") == len(keys)


def test_dygie_manifest_counts_the_stances_it_cannot_carry(seeded):
    manifest = orjson.loads(members(stream(seeded, format="dygie"))["manifest.json"])
    native = jsonl_lines(stream(seeded, format="jsonl"))
    author = sum(1 for line in native for s in line["stances"] if s["holder"] is None)
    dropped = {entry["what"] + ": " + entry["reason"]: entry["count"] for entry in manifest["dropped"]}
    assert dropped["stances: held by the author or aimed at an actor without a mention: left out"] == author


def test_overlap_rules_pick_longest_first_or_by_label_priority():
    spans = [("a", 0, 1), ("b", 0, 2), ("c", 1, 3), ("d", 3, 4), ("e", 3, 4)]
    assert non_overlapping(spans) == non_overlapping(spans, "longest") == ["b", "d"]
    assert non_overlapping(spans, "first") == ["b", "d"]
    assert non_overlapping([("a", 0, 1), ("c", 1, 3)], "first") == ["a", "c"]
    assert non_overlapping([("x", 0, 1), ("y", 0, 3)], "first") == ["y"]
    # label priority: the lower rank wins whatever its length
    assert non_overlapping(spans, "label-priority", {"c": 0, "a": 1, "b": 2}) == ["a", "c", "d"]


def test_the_overlap_option_changes_the_entities_and_the_manifest_says_so(seeded, tmp_path):
    from spacy.tokens import DocBin

    from annotations.exports.tokens import segmenter

    # NORP before GPE in the schema order: "Russian" (NORP) wins over "Russian Federation" (GPE)
    schema = seeded.label_schema
    order = [e["code"] for e in schema["entity_types"]]
    assert order.index("GPE") < order.index("NORP")
    schema["entity_types"].sort(key=lambda e: e["code"] != "NORP")
    seeded.save(update_fields=["label_schema"])

    out = _export_folder(seeded, "spacy", tmp_path / "spacy", ratios="1,0,0", overlap="label-priority")
    docs = list(DocBin().from_disk(out / "train" / "part-00000.spacy").get_docs(segmenter().vocab))
    doc = next(d for d in docs if "Russian Federation" in d.text)
    ents = {(e.text, e.label_) for e in doc.ents}
    assert ("Russian", "NORP") in ents and ("Russian Federation", "GPE") not in ents
    manifest = orjson.loads((out / "manifest.json").read_bytes())
    assert manifest["overlap"] == "label-priority"
    assert [e["reason"] for e in manifest["dropped"] if e["what"] == "mentions"] == [
        "overlapped one whose entity type comes first in the schema (kept that one): left out of doc.ents "
        "(doc.spans['sc'] has them)"
    ]
    with pytest.raises(ExportOptionError, match="overlap: unknown overlap rule 'shortest'"):
        export_request(project=seeded, format="conll", overlap="shortest")


def test_a_single_file_export_gets_its_manifest_next_to_it_and_the_command_prints_it(seeded, tmp_path):
    out = tmp_path / "train.conll"
    output = run("--project", "niger", "--format", "conll", "--split", "train", "--out", str(out))
    manifest = orjson.loads((tmp_path / "train.conll.manifest.json").read_bytes())
    assert manifest["counts"]["splits"] == {"train": 3}
    assert manifest["documents"]["train.conll"] == [
        line["id"] for line in jsonl_lines(stream(seeded, format="jsonl")) if line["split"] == "train"
    ]
    assert "3 articles" in output and "articles per split: train 3" in output
    assert f"Manifest: {tmp_path / 'train.conll.manifest.json'}" in output
    assert "left out or changed: " in output and "overlapped a longer one" in output


def test_an_empty_requested_split_is_a_warning_or_with_strict_an_error(tmp_path):
    from annotations.exports.base import EmptySplitsError
    from annotations.exports.runner import check_export_splits, export_run

    # given a project of one story (one article)
    project = project_create(slug="one", name="One story")
    (article,) = articles_create(
        project=project, articles=[ArticleInput(title="t", text="Niger and Mali met.")]
    ).imported
    annotate(layer_gold(article=article))

    # the manifest knows before the first byte
    run_ = export_run(export_request(project=project, format="jsonl"))
    assert run_.manifest.empty_splits == ["dev", "test"]
    warnings = check_export_splits(run_.manifest)
    assert warnings == [
        "split dev is empty: 1 story for 3 splits with a positive ratio (reports of one story stay in one split)",
        "split test is empty: 1 story for 3 splits with a positive ratio (reports of one story stay in one split)",
    ]
    with pytest.raises(EmptySplitsError) as failure:
        check_export_splits(run_.manifest, strict=True)
    assert failure.value.splits == ["dev", "test"]
    assert (
        check_export_splits(export_run(export_request(project=project, format="jsonl", split="train")).manifest) == []
    )

    # the command warns, and with --strict fails writing nothing
    out, err = StringIO(), StringIO()
    call_command(
        "export_corpus",
        "--project",
        "one",
        "--format",
        "jsonl",
        "--out",
        str(tmp_path / "a.jsonl"),
        stdout=out,
        stderr=err,
    )
    assert "Warning: split dev is empty" in err.getvalue()
    message = run_failing("--project", "one", "--format", "jsonl", "--strict", "--out", str(tmp_path / "b.jsonl"))
    assert message.startswith("--strict: split dev is empty") and not (tmp_path / "b.jsonl").exists()
    assert orjson.loads((tmp_path / "a.jsonl.manifest.json").read_bytes())["warnings"] == warnings


def test_the_spacy_archive_trains_as_it_is(seeded, tmp_path):
    # given the seeds exported as a spaCy zip, unpacked
    archive = tmp_path / "spacy.zip"
    export_write(export_request(project=seeded, format="spacy"), archive)
    folder = tmp_path / "unpacked"
    with zipfile.ZipFile(archive) as opened:
        opened.extractall(folder)
    assert (folder / "config.cfg").exists() and (folder / "labels" / "ner.json").exists()
    assert orjson.loads((folder / "labels" / "spancat.json").read_bytes()) == ["AGREE", "AID"]
    assert set(orjson.loads((folder / "labels" / "ner.json").read_bytes())["1"]) >= {"PERSON", "GPE", "NORP"}

    # when spaCy trains on it with nothing else (a few steps, CPU)
    train = reader(
        "-m", "spacy", "train", "config.cfg", "--training.max_steps", "5", "--training.eval_frequency", "5",
        "--output", "model", cwd=folder,
    )  # fmt: skip

    # then it trains ner and spancat on the triggers
    assert train.returncode == 0, train.stdout + train.stderr
    meta = orjson.loads((folder / "model" / "model-last" / "meta.json").read_bytes())
    assert meta["pipeline"] == ["tok2vec", "ner", "spancat"]
    assert meta["labels"]["spancat"] == ["AGREE", "AID"]
