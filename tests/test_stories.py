"""Stories: reports of the same event grouped at import, so that they share a split."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from django.conf import settings

from annotations import stories
from annotations.exports import splits as splitting
from annotations.models import Article, ArticleAnchor, Project
from annotations.services.articles import ArticleInput, articles_create, content_hash
from annotations.services.imports import import_paths
from annotations.services.projects import project_create

SEEDS = Path(settings.SEEDS_DIR)
SAME_VISIT = ("000", "001", "004")  # the Niamey visit of a Russian delegation, three outlets


def seed_texts() -> dict[str, str]:
    return {path.name[:3]: path.read_text(encoding="utf-8") for path in sorted(SEEDS.glob("*.txt"))}


def edited(text: str, changes: int, seed: int) -> str:
    """`text` with `changes` words replaced: a republished copy with light edits."""
    rng = random.Random(seed)
    words = text.split(" ")
    for i in rng.sample(range(len(words)), changes):
        words[i] = rng.choice(["reportedly", "officially", "indeed", "also"])
    return " ".join(words)


def keys_of(project: Project) -> dict[str, str]:
    """Article title → story key."""
    return dict(project.articles.values_list("title", "story_key"))


def stored(project: Project, texts: dict[str, str], *, one_by_one: bool = False) -> dict[str, str]:
    """Import the texts (titles are their names) in order; title → story key."""
    inputs = [ArticleInput(title=name, text=text) for name, text in texts.items()]
    if one_by_one:
        for article in inputs:
            articles_create(project=project, articles=[article])
    else:
        articles_create(project=project, articles=inputs)
    return keys_of(project)


# --- The signal (pure functions) --------------------------------------------------------------


def test_content_bigram_containment_separates_the_seed_stories():
    texts = seed_texts()

    def measured(a: str, b: str) -> tuple[float, int]:
        value, common = stories.similarity(texts[a], texts[b])
        return round(value, 3), common

    # the three reports of the visit contain 11 % to 15 % of each other's content-word bigrams
    assert measured("000", "001") == (0.128, 23)
    assert measured("001", "004") == (0.153, 30)
    assert measured("000", "004") == (0.112, 20)
    # other pairs, on the same topic (Niger, Russia, the junta), at most 6.4 %
    others = [(a, b) for a in texts for b in texts if a < b and not {a, b} <= set(SAME_VISIT)]
    assert max(measured(a, b)[0] for a, b in others) == 0.064
    # the threshold sits between the two
    for a, b in others:
        assert not stories.same_story(stories.bigrams(texts[a]), stories.bigrams(texts[b]))
    for a, b in (("000", "001"), ("001", "004"), ("000", "004")):
        assert stories.same_story(stories.bigrams(texts[a]), stories.bigrams(texts[b]))


def test_bigrams_are_the_pairs_of_content_words():
    text = "The Russian delegation, led by Yunus-Bek Yevkurov, was received in Niamey on Monday."

    assert stories.content_words(text) == [
        "russian",
        "delegation",
        "led",
        "yunus",
        "bek",
        "yevkurov",
        "received",
        "niamey",
        "monday",
    ]
    assert stories.bigrams(text).size == 8
    # case, punctuation and stop words don't matter; word order does
    assert list(stories.bigrams("russian DELEGATION — led!")) == list(stories.bigrams("Russian delegation was led"))
    assert list(stories.bigrams("delegation russian")) != list(stories.bigrams("russian delegation"))
    assert stories.bigrams("it is on").size == 0


def test_what_is_not_the_same_story():
    texts = seed_texts()
    visit = stories.bigrams(texts["000"])

    # a one-line report sharing a topic phrase ("niger russia") with the visit
    brief = stories.bigrams("Niger and Russia met in Niamey again.")
    assert stories.shared(brief, visit) == 1 and not stories.same_story(brief, visit)
    # another story (002, trainers sent to Niger) quoting a phrase of the visit's report
    phrase = "“the signing of documents as part of strengthening military cooperation”"
    quoting = stories.bigrams(texts["002"] + "\n" + phrase)
    assert 0.06 < stories.containment(quoting, visit) < stories.STORY_THRESHOLD
    assert not stories.same_story(quoting, visit)
    # quoting a whole sentence (18 bigrams) is enough to group them: the sentence must not be in
    # both training and test data
    paragraph = next(line for line in texts["000"].splitlines() if line.startswith("With great fanfare"))
    sentence = paragraph.split(". ")[0]
    assert stories.same_story(stories.bigrams(texts["002"] + "\n" + sentence), visit)
    # but a republished copy with light edits is, and so is half of the article
    assert stories.containment(stories.bigrams(edited(texts["000"], 8, seed=1)), visit) > 0.8
    half = "\n".join(texts["000"].splitlines()[: len(texts["000"].splitlines()) // 2])
    assert stories.same_story(stories.bigrams(half), visit)


# --- Grouping at import -----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_seeds_three_reports_of_the_visit_share_a_story_key():
    # when the seed files are imported
    project = project_create(slug="niger", name="Niger")
    assert import_paths(project=project, paths=[SEEDS]).imported == 5

    # then 000, 001 and 004 share the key of the first imported (000); 002 and 003 have their own
    articles = {Path(a.imported_from).name[:3]: a for a in project.articles.all()}
    assert {articles[n].story_key for n in SAME_VISIT} == {articles["000"].content_hash}
    for number in ("002", "003"):
        assert articles[number].story_key == articles[number].content_hash
    # every article is found by a sample of its bigrams, and keeps them all for comparisons
    for article in articles.values():
        held = ArticleAnchor.objects.filter(article_id=article.pk).count()
        assert held == stories.anchors(stories.bigrams(article.text)).size
        assert len(article.story_bigrams) == 4 * stories.fingerprint(stories.bigrams(article.text)).size


@pytest.mark.django_db
def test_a_lightly_edited_copy_joins_the_story_of_its_original(project):
    texts = seed_texts()
    keys = stored(project, {"002": texts["002"], "003": texts["003"]})

    (copy,) = articles_create(
        project=project, articles=[ArticleInput(title="copy", text="Reposted\n" + edited(texts["003"], 6, seed=7))]
    ).imported

    assert copy.story_key == keys["003"] == content_hash(texts["003"])
    assert keys_of(project)["002"] == content_hash(texts["002"])


@pytest.mark.django_db
def test_an_article_reporting_two_stories_merges_them_under_the_older_key(project):
    # given two stories, 002 then 003, each with a republished copy
    texts = seed_texts()
    before = stored(
        project,
        {
            "002": texts["002"],
            "003": texts["003"],
            "002 copy": edited(texts["002"], 5, seed=1),
            "003 copy": edited(texts["003"], 5, seed=2),
        },
    )
    assert before["002 copy"] == before["002"] != before["003"] == before["003 copy"]

    # when an article made of the first half of 002 and the second half of 003 arrives
    first, second = texts["002"].splitlines(), texts["003"].splitlines()
    bridge = "\n".join(first[: len(first) // 2] + second[len(second) // 2 :])
    articles_create(project=project, articles=[ArticleInput(title="bridge", text=bridge)])

    # then it joins both: the stories merge, and the older one's key (002's) names them all,
    # which moves 003 and its copy to 002's split
    after = keys_of(project)
    assert set(after.values()) == {content_hash(texts["002"])}
    for ratios in ("0.8,0.1,0.1", "0.34,0.33,0.33"):
        parsed = splitting.parse_ratios(ratios)
        assert {splitting.split_of(key, "", parsed) for key in after.values()} == {
            splitting.split_for_key(content_hash(texts["002"]), parsed)
        }


def _mixed_batch() -> dict[str, str]:
    """Seeds, copies, a bridge, wire copies and unrelated short texts, in one order."""
    texts = seed_texts()
    first, second = texts["002"].splitlines(), texts["003"].splitlines()
    batch = dict(texts)
    batch["003 copy"] = edited(texts["003"], 6, seed=3)
    batch["bridge"] = "\n".join(first[: len(first) // 2] + second[len(second) // 2 :])
    batch |= {f"wire {i}": f"Dispatch {i}.\n" + edited(texts["001"], 3, seed=10 + i) for i in range(20)}
    rng = random.Random(4)
    words = [f"word{i}" for i in range(3000)]
    batch |= {f"other {i}": " ".join(rng.choice(words) for _ in range(120)) for i in range(10)}
    return batch


@pytest.mark.django_db
def test_a_batch_is_grouped_as_if_its_articles_came_one_at_a_time():
    batch = _mixed_batch()
    together = stored(project_create(slug="together", name="Together"), batch)
    apart = stored(project_create(slug="apart", name="Apart"), batch, one_by_one=True)

    assert together == apart
    # the wire copies of 001 joined the visit's story (000 came first), the bridge merged 002
    # and 003, the unrelated texts are on their own
    visit, other = content_hash(batch["000"]), content_hash(batch["002"])
    assert {together[f"wire {i}"] for i in range(20)} == {visit}
    assert {together[n] for n in ("002", "003", "003 copy", "bridge")} == {other}
    assert [together[f"other {i}"] for i in range(10)] == [content_hash(batch[f"other {i}"]) for i in range(10)]


@pytest.mark.django_db
def test_an_anchor_is_stored_for_at_most_bucket_cap_articles_and_still_finds_them(project):
    # given the same wire story published by 3 x BUCKET_CAP outlets, each with its own dateline
    wire = seed_texts()["004"]
    copies = {f"copy {i}": f"Outlet {i} —\n{wire}" for i in range(3 * stories.BUCKET_CAP)}

    keys = stored(project, copies)

    # then they are one story, and no anchor is held by more than BUCKET_CAP stored rows
    assert set(keys.values()) == {content_hash(copies["copy 0"])}
    held = ArticleAnchor.objects.filter(project=project).values_list("hash", flat=True)
    assert max(list(held).count(value) for value in set(held)) == stories.BUCKET_CAP


@pytest.mark.django_db
def test_story_keys_are_computed_again_by_the_migration_backfill():
    # given a project imported with its stories, and one with a copy of another seed
    project = project_create(slug="niger", name="Niger")
    import_paths(project=project, paths=[SEEDS])
    other = project_create(slug="other", name="Other")
    stored(other, {"copy": edited(seed_texts()["002"], 4, seed=5), "002": seed_texts()["002"]})
    before = {
        pk: (key, bytes(data)) for pk, key, data in Article.objects.values_list("pk", "story_key", "story_bigrams")
    }
    anchors_before = sorted(ArticleAnchor.objects.values_list("project_id", "hash", "article_id"))

    # when the stories are forgotten, as before migration 0004, and the migration's function runs
    Article.objects.update(story_key="", story_bigrams=b"")
    ArticleAnchor.objects.all().delete()
    grouped = stories.story_keys_backfill(Article, ArticleAnchor, batch_size=2)

    # then every article has its key, fingerprint and anchors back
    assert grouped == 7
    after = {
        pk: (key, bytes(data)) for pk, key, data in Article.objects.values_list("pk", "story_key", "story_bigrams")
    }
    assert after == before
    assert sorted(ArticleAnchor.objects.values_list("project_id", "hash", "article_id")) == anchors_before
    # and running it again changes nothing
    assert stories.story_keys_backfill(Article, ArticleAnchor) == 0


@pytest.mark.django_db
@pytest.mark.parametrize("ratios", ["0.8,0.1,0.1", "0.34,0.33,0.33", "0.5,0.5,0", "0.1,0.1,0.8", "0.2,0.6,0.2"])
def test_every_report_of_a_story_gets_the_story_split(project, ratios):
    stored(project, _mixed_batch())
    parsed = splitting.parse_ratios(ratios)

    by_story: dict[str, set[str]] = {}
    for key, digest in project.articles.values_list("story_key", "content_hash"):
        by_story.setdefault(key, set()).add(splitting.split_of(key, digest, parsed))

    assert all(found == {splitting.split_for_key(key, parsed)} for key, found in by_story.items())
    assert max(len(members) for members in [project.articles.filter(story_key=k) for k in by_story]) == 23


def test_an_article_without_a_story_key_is_its_own_story():
    ratios = splitting.DEFAULT_RATIOS
    assert splitting.split_of("", "abc", ratios) == splitting.split_for_key("abc", ratios)
    assert splitting.split_of("story", "abc", ratios) == splitting.split_for_key("story", ratios)


@pytest.mark.django_db
def test_deleting_a_project_deletes_its_anchors_and_an_article_leaves_a_harmless_trace():
    texts = seed_texts()
    kept, dropped = project_create(slug="kept", name="Kept"), project_create(slug="dropped", name="Dropped")
    stored(kept, {"000": texts["000"]})
    stored(dropped, {"001": texts["001"]})

    dropped.delete()
    assert set(ArticleAnchor.objects.values_list("project_id", flat=True)) == {kept.pk}

    # an article deleted from under its anchors is skipped when a copy of it arrives
    kept.articles.get().delete()
    (copy,) = articles_create(
        project=kept, articles=[ArticleInput(title="copy", text=edited(texts["000"], 3, 1))]
    ).imported
    assert copy.story_key == copy.content_hash
