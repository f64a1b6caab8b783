"""The annotate page in a real browser, as an annotator uses it: queue → article → mentions by
mouse and by key → suggestions → an event with two roles → a stance with evidence → done →
reload; the XSS article runs nothing; a conflicting edit from a second browser gets the 409 path."""

from __future__ import annotations

import pytest

from annotations.models import Layer, Mention, SuggestionDecision
from tests.browser.conftest import ARTICLE_TITLE, PASSWORD
from tests.browser.helpers import (
    api_get,
    box,
    click_text,
    drag_select,
    layer_state,
    log_in,
    machine_mentions,
    wait_ready,
    wait_saved,
)
from tests.factories import ActorFactory, ArticleFactory, MembershipFactory, ProjectFactory, UserFactory

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

XSS = "<script>alert(1)</script> and <img src=x onerror=alert(1)>"


def open_article(page, title: str = ARTICLE_TITLE) -> None:
    page.goto("/admin/")
    page.click("text=My queue")
    page.click(f"#wb-queue-table a:text-is('{title}')")
    wait_ready(page)


def test_an_annotator_labels_decides_suggestions_builds_an_event_and_a_stance(seeds, new_page, artifacts):
    project, _article, layer = seeds
    page = new_page()
    log_in(page, "annotator1", PASSWORD)
    open_article(page)
    assert page.url.endswith(f"/admin/workspace/{project.slug}/layers/{layer.pk}/")

    # A span by mouse: a partial word snaps to whole tokens, then a click on the palette.
    drag_select(page, "ilitary trainer")
    page.click(".wb-label[data-label=QUANTITY]")
    wait_saved(page)
    # A span by keyboard: a click on a word, Shift+→ extends by a word, the hotkey labels it.
    click_text(page, "military government")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("o")
    wait_saved(page)
    assert layer_state(page)["mentions"] == [["ORG", "military government"], ["QUANTITY", "military trainers"]]

    # Suggestions: accept one (Enter), reject another (Delete).
    click_text(page, "Russia")
    page.keyboard.press("Enter")
    wait_saved(page)
    click_text(page, "Europe")
    page.keyboard.press("Delete")
    wait_saved(page)
    assert ["GPE", "Russia"] in layer_state(page)["mentions"]
    assert page.locator(".wb-tag-s", has_text="LOC").count() == 0  # rejected: no longer shown

    # An event: trigger, type by typing, then a click per role (actor, then recipient).
    click_text(page, "sends")
    page.keyboard.press("Shift+E")
    page.keyboard.type("AID")
    page.keyboard.press("Enter")
    wait_saved(page)
    click_text(page, "Russia")
    wait_saved(page)
    click_text(page, "Niger")  # still a suggestion: accepted on the way into the role
    wait_saved(page)
    assert page.locator(".wb-tag[data-role='actor']").count() == 1
    assert page.locator(".wb-arc").count() == 2  # trigger → each argument

    # A stance: the evidence selected, Shift+S, a click on the target, AGAINST, Enter.
    drag_select(page, "is increasingly turning away from Europe")
    page.keyboard.press("Shift+S")
    click_text(page, "USA")
    wait_saved(page)
    page.keyboard.press("ArrowRight")  # the focused stance radios: FAVOR → AGAINST
    page.keyboard.press("Enter")
    wait_saved(page)

    page.keyboard.press("Shift+D")
    wait_saved(page)
    assert page.locator("#wb-status").inner_text() == "Done"
    page.screenshot(path=str(artifacts / "annotate-page.png"), full_page=True)

    page.reload()
    wait_ready(page)
    state = layer_state(page)
    assert state["status"] == "done"
    assert state["mentions"] == [
        ["GPE", "Niger"],
        ["GPE", "Russia"],
        ["GPE", "USA"],
        ["ORG", "military government"],
        ["QUANTITY", "military trainers"],
    ]
    assert (state["events"], state["stances"]) == (1, 1)
    assert page.errors == []

    # The API shows the same layer.
    data = api_get(page, f"/api/v1/projects/{project.slug}/layers/{layer.pk}/")
    texts = {m["id"]: m["text"] for m in data["mentions"]}
    (event,) = data["events"]
    assert (event["event_type"], event["trigger_text"], event["realis"]) == ("AID", "sends", "actual")
    assert sorted((a["role"], texts[a["mention"]]) for a in event["arguments"]) == [
        ("actor", "Russia"),
        ("recipient", "Niger"),
    ]
    (stance,) = data["stances"]
    assert (stance["label"], stance["holder"], texts[stance["target"]]) == ("AGAINST", None, "USA")
    assert stance["evidence_text"] == "is increasingly turning away from Europe"
    assert data["status"] == "done"
    decisions = sorted(SuggestionDecision.objects.filter(layer=layer).values_list("decision", "suggestion__text"))
    assert decisions == [("accept", "Niger"), ("accept", "Russia"), ("accept", "USA"), ("reject", "Europe")]


def test_undo_takes_back_the_last_change(seeds, new_page):
    project, _article, layer = seeds
    page = new_page()
    log_in(page, "annotator1", PASSWORD)
    page.goto(f"/admin/workspace/{project.slug}/layers/{layer.pk}/")
    wait_ready(page)

    click_text(page, "trainers")
    page.keyboard.press("q")
    wait_saved(page)
    page.keyboard.press("Control+z")
    wait_saved(page)

    assert layer_state(page)["mentions"] == []
    assert not Mention.objects.filter(layer=layer).exists()


def test_a_failed_save_says_why_and_keeps_the_work_on_screen(seeds, new_page):
    project, _article, layer = seeds
    page = new_page()
    log_in(page, "annotator1", PASSWORD)
    page.goto(f"/admin/workspace/{project.slug}/layers/{layer.pk}/")
    wait_ready(page)

    click_text(page, "sends")
    page.keyboard.press("Shift+E")
    page.keyboard.type("AID")
    page.keyboard.press("Enter")
    wait_saved(page)
    page.keyboard.press("Escape")
    page.keyboard.press("Shift+D")  # AID needs an actor: the page says so before asking the server
    wait_saved(page)

    alert = page.locator("#wb-alert")
    assert alert.is_visible()
    assert "AID “sends” — needs actor" in alert.inner_text()
    assert layer_state(page)["events"] == 1
    assert page.locator("#wb-status").inner_text() == "In progress"


def test_a_conflicting_edit_offers_a_reload_that_keeps_the_unsaved_change(seeds, new_page):
    project, _article, layer = seeds
    url = f"/admin/workspace/{project.slug}/layers/{layer.pk}/"
    mine, other = new_page(), new_page()
    for page in (mine, other):
        log_in(page, "annotator1", PASSWORD)
        page.goto(url)
        wait_ready(page)

    click_text(other, "trainers")  # the other window saves first: the layer moves to version 2
    other.keyboard.press("q")
    wait_saved(other)
    drag_select(mine, "military government")  # this window still holds version 1
    mine.keyboard.press("o")
    wait_saved(mine)

    conflict = mine.locator("#wb-conflict")
    assert conflict.is_visible()
    assert "Someone else changed this layer" in conflict.inner_text()
    assert mine.locator(".wb-tag-m.wb-unsaved", has_text="ORG").count() == 1  # still on screen
    mine.click("#wb-reload-keep")
    mine.wait_for_selector("#wb-conflict", state="detached")
    wait_saved(mine)

    assert layer_state(mine)["mentions"] == [["ORG", "military government"], ["QUANTITY", "trainers"]]
    data = api_get(mine, f"/api/v1/projects/{project.slug}/layers/{layer.pk}/")
    assert sorted((m["label"], m["text"]) for m in data["mentions"]) == [
        ("ORG", "military government"),
        ("QUANTITY", "trainers"),
    ]


def test_an_article_with_markup_renders_as_text_and_runs_nothing(transactional_db, new_page):
    project = ProjectFactory(slug="xss")
    user = UserFactory(username="ann-xss", is_staff=True)
    MembershipFactory(project=project, user=user)
    article = ArticleFactory(project=project, title=f"Title {XSS}", text=f"Russia said {XSS} today.")
    layer = Layer.objects.create(article=article, kind=Layer.Kind.ANNOTATOR, annotator=user)
    actor = ActorFactory(name=f"Actor {XSS}")
    start = article.text.index("<script>")
    Mention.objects.create(layer=layer, label="ORG", start=start, end=start + 8, text="<script>", actor=actor)
    machine_mentions(article, [("<img src=x onerror=alert(1)>", "WEAPON", 0)])

    page = new_page()
    log_in(page, "ann-xss", "pw-for-tests-only")
    page.goto(f"/admin/workspace/{project.slug}/layers/{layer.pk}/")
    wait_ready(page)
    click_text(page, "<script>")  # the inspector shows the mention and its actor's name

    text = page.locator("#wb-text")
    shown = page.evaluate("() => window.workbench.text.nodes.map((node) => node.data).join('')")
    assert shown == article.text  # the text nodes, without the label tags between them
    assert "<script>" in text.inner_text() and "<img src=x onerror=alert(1)>" in text.inner_text()
    assert text.locator("script, img").count() == 0
    assert page.locator("#wb-inspector").inner_text().count(f"Actor {XSS}") == 1
    assert f"Title {XSS}" in page.locator("#wb-title").inner_text()
    assert page.dialogs == []
    assert page.errors == []
    assert box(page, "today")["start"] == article.text.index("today")
