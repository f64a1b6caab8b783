"""Importing in batches: grouping across and within batches, what is written, queries per batch."""

from __future__ import annotations

import itertools
import json
import random
from contextlib import contextmanager
from datetime import date

import numpy as np
import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from annotations import stories
from annotations.models import Article, ArticleAnchor
from annotations.services import articles as article_services
from annotations.services.articles import ArticleInput, articles_create, content_hash
from annotations.services.imports import import_paths
from annotations.services.projects import project_create
from tests.test_stories import edited, seed_texts


def rewrites(count: int, seed: int) -> list[tuple[str, str]]:
    """(title, text): each seed, then `count` light rewrites of seeds picked at random."""
    texts = seed_texts()
    rng = random.Random(seed)
    found = [(name, text) for name, text in texts.items()]
    for i in range(count):
        name = rng.choice(sorted(texts))
        found.append((f"{name} rewrite {i}", f"Outlet {i} —\n" + edited(texts[name], 6, seed=seed + i)))
    return found


@contextmanager
def statements(monkeypatch):
    """Counts the statements run, COPY included (Django's query log leaves COPY out)."""
    copies: list[str] = []
    if connection.vendor == "postgresql":
        import psycopg

        copy = psycopg.Cursor.copy

        def counted(cursor, statement, *args, **kwargs):
            copies.append(str(statement))
            return copy(cursor, statement, *args, **kwargs)

        monkeypatch.setattr(psycopg.Cursor, "copy", counted)
    with CaptureQueriesContext(connection) as captured:
        yield lambda: len(captured) + len(copies)


def imported(slug: str, articles: list[tuple[str, str]], batch: int) -> dict[str, str]:
    """Import the articles `batch` at a time into a new project; title → story key."""
    project = project_create(slug=slug, name=slug)
    inputs = [ArticleInput(title=title, text=text) for title, text in articles]
    for start in range(0, len(inputs), batch):
        articles_create(project=project, articles=inputs[start : start + batch])
    return dict(project.articles.values_list("title", "story_key"))


@pytest.mark.django_db
def test_rewrites_join_their_story_within_a_batch_and_across_batches():
    articles = rewrites(24, seed=3)

    # when the same articles are imported in one batch, in batches of 7 and one at a time
    together = imported("together", articles, batch=len(articles))
    sevens = imported("sevens", articles, batch=7)
    apart = imported("apart", articles, batch=1)

    # then every rewrite has its seed's story, however the batches fell
    texts = seed_texts()
    visit = content_hash(texts["000"])  # 000, 001 and 004 are one story
    for title, _ in articles:
        seed = title[:3]
        expected = visit if seed in ("000", "001", "004") else content_hash(texts[seed])
        assert together[title] == expected, title
    assert sevens == together
    assert apart == together


@pytest.mark.django_db
def test_a_file_in_small_batches_groups_as_one_batch(tmp_path, monkeypatch):
    # given a file of seeds and rewrites, imported whole and in batches of 4
    path = tmp_path / "rewrites.jsonl"
    path.write_text("".join(json.dumps({"title": t, "text": x}) + "\n" for t, x in rewrites(15, seed=9)))
    whole = project_create(slug="whole", name="Whole")
    import_paths(project=whole, paths=[path])
    monkeypatch.setattr("annotations.services.imports.IMPORT_BATCH_SIZE", 4)
    small = project_create(slug="small", name="Small")

    report = import_paths(project=small, paths=[path])

    # then the keys, fingerprints and anchors are the same
    assert report.summary() == "imported 20, duplicates 0, errors 0"

    def stored(project):
        first = project.articles.order_by("pk").first().pk
        rows = project.articles.order_by("pk").values_list("title", "story_key", "story_bigrams")
        anchors = ArticleAnchor.objects.filter(project=project).values_list("article_id", "hash")
        return [(t, k, bytes(b)) for t, k, b in rows], sorted((a - first, h) for a, h in anchors)

    assert stored(small) == stored(whole)


@pytest.mark.django_db
def test_returned_articles_are_the_stored_rows(project):
    inputs = [
        ArticleInput(
            title="  Niger and Russia  ",
            text=seed_texts()["000"],
            source="RFI",
            url="https://example.org/1",
            published=date(2023, 4, 12),
            language="fr",
            metadata={"dateline": "Published on: April 12, 2023", "n": [1, 2.5, None]},
        ),
        ArticleInput(title="Second", text=seed_texts()["002"], language=""),
    ]

    created = articles_create(project=project, articles=inputs, imported_from="feed.jsonl").imported

    fields = [field.attname for field in Article._meta.concrete_fields]
    for article in created:
        assert not article._state.adding
        assert article.project == project
        stored = Article.objects.get(pk=article.pk)
        assert {f: getattr(article, f) for f in fields} == {f: getattr(stored, f) for f in fields} | {
            "story_bigrams": bytes(stored.story_bigrams)
        }
    assert [a.pk for a in created] == sorted(a.pk for a in created)
    assert (created[0].title, created[0].language, created[1].language) == ("Niger and Russia", "fr", "en")
    assert created[0].metadata == {"dateline": "Published on: April 12, 2023", "n": [1, 2.5, None]}


@pytest.mark.django_db
def test_a_batch_takes_the_same_few_queries_whatever_its_size_and_merges(project, monkeypatch):
    texts = seed_texts()
    first, second = texts["002"].splitlines(), texts["003"].splitlines()
    stored_stories = [
        ArticleInput(title=f"{name} copy {i}", text=f"Copy {i}\n" + edited(texts[name], 4, seed=i))
        for i in range(6)
        for name in ("002", "003")
    ]
    articles_create(project=project, articles=stored_stories[:2])  # two stories, 002's and 003's
    articles_create(project=project, articles=stored_stories[2:4])

    def queries(articles: list[ArticleInput]) -> int:
        with statements(monkeypatch) as count:
            articles_create(project=project, articles=articles)
        return count()

    # a small batch of new stories, then a large one of copies and bridges that merge stories
    small = queries([ArticleInput(title="brief", text="Niger and Russia met in Niamey again.")])
    bridges = [
        ArticleInput(title=f"bridge {i}", text=f"Bridge {i}\n" + "\n".join(first[: len(first) // 2] + second[i:]))
        for i in range(len(second) // 2, len(second) // 2 + 5)
    ]
    large = queries(stored_stories[4:] + bridges)

    # then the bridges merged 002's and 003's stories (the brief is its own), and the batch of 13
    # took at most three statements more than the batch of one: the stored candidates'
    # fingerprints, the merged stories' first members, one UPDATE renaming them
    assert len(set(project.articles.values_list("story_key", flat=True))) == 2
    assert small <= large <= small + 3


def test_lead_sums_do_not_depend_on_how_large_the_ids_are():
    rng = np.random.default_rng(5)
    count = 300
    article = rng.integers(0, count, 20_000)
    member = np.where(
        rng.random(20_000) < 0.7, rng.integers(1, 5_000, 20_000), stories._NEW + rng.integers(0, count, 20_000)
    )
    weight = stories._UNIT // rng.integers(1, stories.BUCKET_CAP + 1, 20_000)

    small = stories._lead_sums(article, member, weight, count)  # packed into one sorted key
    shifted = np.where(member < stories._NEW, member + 2**45, member)
    large = stories._lead_sums(article, shifted, weight, count)  # too large to pack: lexsort

    assert np.array_equal(small[0], large[0])
    assert np.array_equal(np.where(small[1] < stories._NEW, small[1] + 2**45, small[1]), large[1])
    assert np.array_equal(small[2], large[2])
    assert small[2].sum() == weight.sum()
    assert small[0].size == len({(a, m) for a, m in zip(article.tolist(), member.tolist(), strict=True)})


def test_verifying_candidates_together_counts_as_one_at_a_time():
    rng = np.random.default_rng(7)
    mine = np.unique(rng.integers(0, 2**32, 250, dtype=np.uint64)).astype(np.uint32)
    others = [
        np.unique(
            np.concatenate([rng.choice(mine, shared, replace=False), rng.integers(0, 2**32, size, np.uint64)])
        ).astype(np.uint32)
        for shared, size in [(0, 200), (7, 20), (8, 20), (8, 300), (30, 300), (250, 0), (3, 5), (0, 0)]
    ]
    # values equal to one of `mine` in their low 16 bits only
    others.append(np.unique((mine[:40].astype(np.uint64) + 2**16).astype(np.uint32)))

    assert stories._same_stories(mine, others) == [stories.same_story(mine, other) for other in others]
    assert stories._same_stories(mine, others)[:6] == [False, False, True, False, True, True]
    assert stories._same_stories(np.empty(0, np.uint32), others) == [False] * len(others)


def test_bigrams_of_many_texts_are_each_texts_bigrams(monkeypatch):
    texts = list(seed_texts().values())
    texts += ["", "it is on", "ΟΔΟΣ ΟΔΟΣ ΟΔΟΣ Σ", "İstanbul İzmir İzmir", "word_one word_two\tword_three", "x" * 3000]

    expected = [stories.bigrams(text) for text in texts]
    monkeypatch.setattr(stories, "PASS_CHARS", 5000)  # several passes, one text longer than a pass
    found = stories.bigram_sets(texts)

    assert len(found) == len(texts)
    assert all(np.array_equal(a, b) and a.dtype == b.dtype for a, b in zip(found, expected, strict=True))
    # each holds one hash per distinct pair of adjacent content words (the readable definition)
    for text, pairs in zip(texts, found, strict=True):
        words = stories.content_words(text)
        assert pairs.size == len(set(itertools.pairwise(words))), text[:40]
    assert [a.size for a in found[-6:]] == [0, 0, 1, 2, 2, 0]


@pytest.mark.django_db
def test_an_article_stored_meanwhile_by_another_import_fails_the_file_cleanly(tmp_path, project, monkeypatch):
    # given a file, and another import storing one of its texts after the duplicate check
    path = tmp_path / "race.jsonl"
    path.write_text("".join(json.dumps({"title": t, "text": x}) + "\n" for t, x in rewrites(3, seed=2)))
    text = seed_texts()["001"]
    plan_batch = article_services.plan_batch

    def racing(*args, **kwargs):
        Article.objects.create(project=project, title="other", text=text, content_hash=content_hash(text))
        return plan_batch(*args, **kwargs)

    monkeypatch.setattr(article_services, "plan_batch", racing)

    # when it is imported
    report = import_paths(project=project, paths=[path])

    # then the file is reported and nothing of it is stored
    assert report.errors == [f"{path}: an article was stored by another import at the same time; run the import again"]
    assert Article.objects.count() == 0
    # and the service raises Django's IntegrityError (what the callers catch), not the driver's
    with pytest.raises(IntegrityError), transaction.atomic():
        articles_create(project=project, articles=[ArticleInput(title="001", text=text)])
