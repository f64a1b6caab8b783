"""The annotate page's second pass (issue 14), driven as an annotator would, mostly by keyboard:
stance targets inside the evidence, messages that go stale, incomplete suggestions and roles the
text does not state, safeguards, item list, guidelines, find, progress and history."""

from __future__ import annotations

import pytest

from tests.browser.conftest import PASSWORD
from tests.browser.helpers import click_text, drag_select, layer_state, log_in, wait_ready, wait_saved

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def open_layer(new_page, project, layer, username: str = "annotator1"):
    page = new_page()
    log_in(page, username, PASSWORD)
    page.goto(f"/admin/workspace/{project.slug}/layers/{layer.pk}/")
    wait_ready(page)
    return page


def draft(page):
    return page.evaluate(
        "() => { const d = window.workbench.ui.stanceDraft; return d && {target: d.target, holder: d.holder}; }"
    )


def message(page) -> str:
    found = page.locator("#wb-message")
    return found.inner_text() if found.count() else ""


# --- 4: the first click on a stance target inside the evidence ---------------------------


def test_the_first_click_on_a_target_inside_the_evidence_picks_it(seeds, new_page):
    project, _article, layer = seeds
    page = open_layer(new_page, project, layer)

    drag_select(page, "is increasingly turning away from Europe and the USA")
    page.keyboard.press("Shift+S")
    click_text(page, "USA")  # inside the evidence, which is still selected
    wait_saved(page)

    assert draft(page)["target"] is not None
    assert page.locator("#wb-stance-target option:checked").inner_text() == "USA (GPE)"
    page.keyboard.press("ArrowRight")  # FAVOR → AGAINST
    page.keyboard.press("Enter")
    wait_saved(page)
    assert layer_state(page)["stances"] == 1


# --- 7: stale messages ---------------------------------------------------------------------


def test_the_stance_hint_goes_once_the_stance_is_saved(seeds, new_page):
    project, _article, layer = seeds
    page = open_layer(new_page, project, layer)

    drag_select(page, "is increasingly turning away from Europe")
    page.keyboard.press("Shift+S")
    click_text(page, "USA")
    wait_saved(page)
    assert "Choose FAVOR" in message(page)
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    wait_saved(page)

    assert layer_state(page)["stances"] == 1
    assert "Choose FAVOR" not in message(page)
    assert "All changes saved" in page.locator("#wb-save").inner_text()


def test_a_discarded_change_leaves_the_save_bar_saying_all_is_saved(seeds, new_page):
    project, _article, layer = seeds
    page = open_layer(new_page, project, layer)
    click_text(page, "sends")
    page.keyboard.press("Shift+E")
    page.keyboard.type("AID")
    page.keyboard.press("Enter")
    wait_saved(page)
    page.keyboard.press("Escape")
    page.evaluate("() => window.workbench.toggleDone({ confirmed: true })")  # refused: AID lacks its actor
    wait_saved(page)
    assert "not saved" in page.locator("#wb-save").inner_text()

    page.locator("#wb-alert button", has_text="Discard").click()

    assert "✓ All changes saved" in page.locator("#wb-save").inner_text()
    assert "0 change(s)" not in page.locator("#wb-save").inner_text()
    assert page.locator("#wb-alert").is_hidden()


def test_a_suggestion_accepted_with_its_label_shows_as_the_mention_it_became(seeds, new_page):
    project, _article, layer = seeds
    page = open_layer(new_page, project, layer)
    click_text(page, "Russia")  # a GPE suggestion
    inspector = page.locator("#wb-inspector")
    assert "Accept all GPE (3)" in inspector.inner_text()

    page.click("#wb-accept-label")
    wait_saved(page)

    assert "Accept (Enter)" not in inspector.inner_text()
    assert "Accept all GPE" not in inspector.inner_text()
    assert inspector.locator("h2").inner_text() == "Mention"
