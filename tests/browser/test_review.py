"""The review page in a real browser, as a reviewer uses it: review queue → seed 000 → the Niamey
dispute (GPE by annotator1, LOC by annotator2) → pick one version, take the unanimous items, add
a mention with the tools → adjudicate; the database and the default gold export then hold exactly
that. Two reviewers adjudicating the same article: the second gets the 409 path, nothing is lost."""

from __future__ import annotations

import orjson
import pytest

from annotations.exports.runner import export_request, export_stream
from annotations.models import Layer, Project
from tests.browser.helpers import drag_select, layer_state, log_in, wait_ready, wait_saved
from tests.review_fixtures import PASSWORD, review_setup

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def setup(transactional_db):
    """The seeds annotated twice, in a project whose gold starts empty (the merge is a button here)."""
    setup = review_setup()
    Project.objects.filter(pk=setup.project.pk).update(merge_strategy="none")
    return setup


def compare_row(page, kind: str, text: str, label: str):
    return page.locator(f".wb-compare-row[data-kind={kind}][data-text='{text}'][data-label={label}]")


def open_review(page, setup) -> None:
    page.goto(f"/admin/workspace/{setup.project.slug}/review/{setup.first.pk}/")
    wait_ready(page)


def test_the_page_creates_the_missing_gold_layer_with_a_post(setup, new_page):
    # Given an article nobody reviewed: the page's GET writes nothing
    page = new_page()
    log_in(page, "reviewer", PASSWORD)
    requests = []
    page.on("request", lambda request: requests.append((request.method, request.url)))

    open_review(page, setup)

    # then its JavaScript POSTed the gold layer, and the page holds that layer
    gold = Layer.objects.get(article=setup.first, kind=Layer.Kind.GOLD)
    layers_url = f"/api/v1/projects/{setup.project.slug}/articles/{setup.first.pk}/layers/"
    assert [method for method, url in requests if url.endswith(layers_url)] == ["POST"]
    assert page.evaluate("() => window.workbench.store.layer.id") == gold.pk
    assert page.locator("#wb-version").inner_text() == str(gold.version)


def gold_items(gold: Layer) -> dict[str, list[tuple]]:
    """The gold layer's items as (what, strategy, annotators, reviewer)."""

    def origin(item) -> tuple:
        p = item.provenance
        return (p.get("strategy"), tuple(p.get("annotators", ())), p.get("reviewer"))

    return {
        "mentions": sorted((m.label, m.text, *origin(m)) for m in gold.mentions.all()),
        "events": sorted(
            (
                e.event_type,
                e.trigger_text,
                tuple(sorted((a.role, a.mention.text) for a in e.arguments.all())),
                *origin(e),
            )
            for e in gold.events.all()
        ),
        "stances": sorted((s.label, *origin(s)) for s in gold.stances.all()),
    }


def test_a_reviewer_settles_an_article_into_gold_and_the_export_has_exactly_that(setup, new_page, artifacts):
    page = new_page()
    log_in(page, "reviewer", PASSWORD)
    page.click("#wb-review-queue-row a")
    row = page.locator(f"#wb-review-queue-table tr[data-article='{setup.first.pk}']")
    assert "Annotated by 2" in row.inner_text()
    page.screenshot(path=str(artifacts / "review-queue.png"))
    row.locator("a", has_text=setup.first.title).click()
    wait_ready(page)

    # The Niamey dispute: two versions, each marked for who gave it and why it is disputed.
    gpe, loc = compare_row(page, "mention", "Niamey", "GPE"), compare_row(page, "mention", "Niamey", "LOC")
    for row, mine, theirs, their_label in (
        (gpe, "annotator1", "annotator2", "LOC"),
        (loc, "annotator2", "annotator1", "GPE"),
    ):
        assert "wb-disputed" in row.get_attribute("class")
        assert row.locator(f"td[data-annotator={mine}]").inner_text() == "✓"
        assert row.locator(f"td[data-annotator={theirs}]").inner_text() == their_label
        assert row.locator(".wb-reason-label").count() == 1
    # In the text both are dashed candidates in the disputed style.
    assert page.locator(".wb-tag-c.wb-tag-disputed", has_text="GPE 1/2").count() == 1
    assert page.locator(".wb-tag-c.wb-tag-disputed", has_text="LOC 1/2").count() == 1

    # Clicking the candidate's tag in the text selects its row; Pick copies it into gold.
    page.locator(".wb-tag-c", has_text="GPE 1/2").click()
    assert "wb-current" in gpe.get_attribute("class")
    assert "annotator1 (1 of 2)" in page.locator("#wb-inspector").inner_text()
    gpe.locator("button.wb-pick").click()
    wait_saved(page)
    assert "wb-in-gold" in gpe.get_attribute("class")
    assert page.locator(".wb-tag-m", has_text="GPE").count() == 1  # solid now: gold
    assert page.locator(".wb-tag-c", has_text="GPE 1/2").count() == 0

    # annotator1's AGREE event (its argument mentions come along), then the unanimous items.
    compare_row(page, "event", "signed", "AGREE").first.click()
    page.keyboard.press("Enter")  # Enter picks the selected candidate
    wait_saved(page)
    page.click("#wb-take-unanimous")
    wait_saved(page)
    # annotator1's stance (AGAINST Russia; annotator2 said NONE): picked onto the gold "Russia".
    stance = page.locator(".wb-compare-row[data-kind=stance][data-label=AGAINST]")
    assert stance.locator("td[data-annotator=annotator2]").inner_text() == "NONE"
    stance.locator("button.wb-pick").click()
    wait_saved(page)

    # A mention the annotators missed, added with the tools: drag, then the palette.
    drag_select(page, "Abdourahamane Tiani")
    page.click(".wb-label[data-label=PERSON]")
    wait_saved(page)
    page.wait_for_function("() => !window.workbench.comparisonStale")

    page.click("#wb-done")  # disputed items are left: the page asks first
    assert "disputed item(s) are not settled in gold" in page.locator("#wb-confirm-text").inner_text()
    page.keyboard.press("Enter")
    wait_saved(page)
    assert page.locator("#wb-status").inner_text() == "Adjudicated"
    assert page.locator("#wb-done").inner_text() == "Reopen"
    assert page.locator("button.wb-pick").count() == 0  # nothing to pick into an adjudicated layer
    page.wait_for_selector("#wb-stage.wb-stage-adjudicated")
    assert "adjudicated by reviewer" in page.locator("#wb-adjudicated").inner_text()
    # The tools column scrolls on its own; unstick it so the full-page picture shows every panel.
    page.add_style_tag(content=".wb-side { position: static; max-height: none; }")
    page.screenshot(path=str(artifacts / "review.png"), full_page=True)
    assert page.errors == []
    assert layer_state(page)["status"] == "adjudicated"

    gold = Layer.objects.get(article=setup.first, kind=Layer.Kind.GOLD)
    assert (gold.status, gold.adjudicated_by.username) == ("adjudicated", "reviewer")
    both = ("annotator1", "annotator2")
    assert gold_items(gold) == {
        "mentions": [
            ("GPE", "Niamey", "picked", ("annotator1",), "reviewer"),
            ("GPE", "Niger", "unanimous", both, "reviewer"),
            ("GPE", "Russia", "unanimous", both, "reviewer"),
            ("PERSON", "Abdourahamane Tiani", "manual", (), "reviewer"),
            ("PERSON", "Salifou Modi", "picked", ("annotator1",), "reviewer"),
            ("PERSON", "Yevkurov", "picked", both, "reviewer"),
        ],
        "events": [
            (
                "AGREE",
                "signed",
                (("actor", "Salifou Modi"), ("actor", "Yevkurov")),
                "picked",
                ("annotator1",),
                "reviewer",
            )
        ],
        "stances": [("AGAINST", "picked", ("annotator1",), "reviewer")],
    }

    # The default gold export (adjudicated layers only) is this article with exactly these items.
    lines = b"".join(export_stream(export_request(project=setup.project, format="jsonl"))).splitlines()
    (document,) = [orjson.loads(line) for line in lines]
    assert (document["title"], document["layer"]["kind"]) == (setup.first.title, "gold")
    assert (document["layer"]["status"], document["layer"]["adjudicated_by"]) == ("adjudicated", "reviewer")
    exported = {m["id"]: m for m in document["mentions"]}
    assert sorted(
        (m["label"], m["text"], m["provenance"]["strategy"], tuple(m["provenance"].get("annotators", ())))
        for m in exported.values()
    ) == [m[:4] for m in gold_items(gold)["mentions"]]
    (event,) = document["events"]
    assert (event["type"], event["trigger"]["text"], event["provenance"]["strategy"]) == ("AGREE", "signed", "picked")
    assert sorted((a["role"], exported[a["mention"]]["text"]) for a in event["arguments"]) == [
        ("actor", "Salifou Modi"),
        ("actor", "Yevkurov"),
    ]
    (stance,) = document["stances"]
    assert (stance["label"], stance["holder"], exported[stance["target"]]["text"]) == ("AGAINST", None, "Russia")


def test_two_reviewers_adjudicating_at_once_the_second_gets_a_conflict_and_nothing_is_lost(setup, new_page, artifacts):
    first, second = new_page(), new_page()
    for page in (first, second):
        log_in(page, "reviewer", PASSWORD)
        open_review(page, setup)

    compare_row(first, "mention", "Niamey", "LOC").locator("button.wb-pick").click()
    wait_saved(first)
    first.click("#wb-done")
    first.click("#wb-confirm-ok")  # with disputed items left
    wait_saved(first)
    assert first.locator("#wb-status").inner_text() == "Adjudicated"

    # The second window still holds the gold layer's first version: its pick is refused (409).
    compare_row(second, "mention", "Niamey", "GPE").locator("button.wb-pick").click()
    wait_saved(second)
    conflict = second.locator("#wb-conflict")
    assert conflict.is_visible()
    assert "Someone else changed this gold layer" in conflict.inner_text()
    # Adjudicating is refused as well while the conflict is open: it waits with the pick.
    second.click("#wb-done")
    second.click("#wb-confirm-ok")
    wait_saved(second)
    assert second.locator("#wb-alert li").count() == 2

    second.click("#wb-reload-keep")
    second.wait_for_selector("#wb-conflict", state="detached")
    wait_saved(second)
    assert "Not applied again" in second.locator("#wb-message").inner_text()
    assert second.locator("#wb-status").inner_text() == "Adjudicated"
    assert layer_state(second)["mentions"] == [["LOC", "Niamey"]]
    assert "wb-in-gold" in compare_row(second, "mention", "Niamey", "LOC").get_attribute("class")
    assert first.errors == [] and second.errors == []

    gold = Layer.objects.get(article=setup.first, kind=Layer.Kind.GOLD)
    assert (gold.status, gold.adjudicated_by.username) == ("adjudicated", "reviewer")
    assert [(m.label, m.text) for m in gold.mentions.all()] == [("LOC", "Niamey")]


def test_undo_takes_a_pick_back_out_of_gold_and_a_reopened_gold_layer_loses_its_adjudicator(setup, new_page):
    page = new_page()
    log_in(page, "reviewer", PASSWORD)
    open_review(page, setup)
    gpe = compare_row(page, "mention", "Niamey", "GPE")

    page.keyboard.press("]")  # the first disputed item: Niamey (GPE, in text order)
    assert "wb-current" in gpe.get_attribute("class")
    page.keyboard.press("Enter")
    wait_saved(page)
    assert layer_state(page)["mentions"] == [["GPE", "Niamey"]]
    page.keyboard.press("Control+z")
    wait_saved(page)

    assert layer_state(page)["mentions"] == []
    assert "wb-in-gold" not in gpe.get_attribute("class")
    assert page.locator(".wb-tag-c", has_text="GPE 1/2").count() == 1  # a candidate again
    assert not Layer.objects.get(article=setup.first, kind=Layer.Kind.GOLD).mentions.exists()

    # Adjudicated, then reopened: the adjudicator is cleared, and gold takes changes again.
    page.keyboard.press("Shift+D")
    page.keyboard.press("Enter")  # "… disputed item(s) are not settled in gold. Mark adjudicated anyway?"
    wait_saved(page)
    assert "adjudicated by reviewer" in page.locator("#wb-adjudicated").inner_text()
    assert gpe.locator("button.wb-pick").count() == 0  # no Pick buttons on an adjudicated layer
    page.keyboard.press("]")
    page.keyboard.press("Enter")  # a pick by key is refused while adjudicated
    assert "The gold layer is adjudicated" in page.locator("#wb-message").inner_text()
    page.click("#wb-done")  # "Reopen"
    wait_saved(page)
    assert page.locator("#wb-status").inner_text() == "In progress"
    assert page.locator("#wb-adjudicated").inner_text() == ""
    gold = Layer.objects.get(article=setup.first, kind=Layer.Kind.GOLD)
    assert (gold.status, gold.adjudicated_by, gold.mentions.count()) == ("in_progress", None, 0)
    assert page.errors == []
