"""The annotate page's second pass (issue 14), driven as an annotator would, mostly by keyboard:
stance targets inside the evidence, messages that go stale, incomplete suggestions and roles the
text does not state, safeguards, item list, guidelines, find, progress and history."""

from __future__ import annotations

import pytest

from annotations.models import Event, Layer
from annotations.queue import queue_progress
from tests.browser.conftest import PASSWORD
from tests.browser.helpers import (
    api_get,
    click_text,
    drag_select,
    layer_state,
    log_in,
    machine_event,
    wait_ready,
    wait_saved,
)

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def open_layer(new_page, project, layer, username: str = "annotator1"):
    page = new_page()
    log_in(page, username, PASSWORD)
    page.goto(f"/admin/workspace/{project.slug}/layers/{layer.pk}/")
    wait_ready(page)
    return page


@pytest.fixture
def suggested(seeds):
    """The seeds with two suggested events: CONSULT "phone call" (actor Russia: complete) and AID
    "sent" (recipient Niger, no actor: incomplete)."""
    project, article, layer = seeds
    machine = Layer.objects.get(article=article, kind=Layer.Kind.MACHINE)
    machine_event(machine, "CONSULT", "phone call", {"actor": "Russia"})
    machine_event(machine, "AID", "sent", {"recipient": "Niger"})
    return project, article, layer


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
    page.route("**/mentions/", lambda route: route.fulfill(status=500, body="boom"))
    click_text(page, "trainers")
    page.keyboard.press("q")
    wait_saved(page)
    assert "1 change(s) not saved" in page.locator("#wb-save").inner_text()

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


# --- 3: incomplete suggestions, roles the text does not state ------------------------------


def test_incomplete_suggested_events_carry_a_badge_and_can_be_filtered(suggested, new_page):
    project, _article, layer = suggested
    page = open_layer(new_page, project, layer)
    cards = page.locator("#wb-suggested-events > li")
    assert cards.count() == 2
    assert page.locator(".wb-is-incomplete .wb-incomplete").inner_text() == "incomplete: no actor"

    page.check("#wb-only-incomplete")

    assert cards.count() == 1
    assert "AID" in cards.first.inner_text()


def test_accepting_an_incomplete_event_arms_its_missing_role_then_shift_x_marks_it_not_stated(suggested, new_page):
    project, _article, layer = suggested
    page = open_layer(new_page, project, layer)

    click_text(page, "sent")  # the suggested AID's trigger
    page.keyboard.press("Enter")
    wait_saved(page)
    page.wait_for_selector(".wb-slot.wb-armed[data-role='actor']")
    page.keyboard.press("Shift+X")
    wait_saved(page)

    assert page.locator(".wb-slot[data-role='actor'] .wb-not-stated").inner_text() == "not stated ✓"
    (event,) = api_get(page, f"/api/v1/projects/{project.slug}/layers/{layer.pk}/")["events"]
    assert (event["event_type"], event["not_stated"]) == ("AID", ["actor"])
    assert Event.objects.get(layer=layer).not_stated == ["actor"]


def test_accept_all_asks_first_and_counts_the_incomplete_events(suggested, new_page):
    project, _article, layer = suggested
    page = open_layer(new_page, project, layer)

    page.click("#wb-accept-all")
    assert "1 of the events are incomplete" in page.locator("#wb-confirm-text").inner_text()
    page.keyboard.press("Escape")  # cancelled: nothing accepted
    wait_saved(page)
    assert layer_state(page)["events"] == 0

    page.click("#wb-accept-all")
    page.keyboard.press("Enter")
    wait_saved(page)
    assert layer_state(page)["events"] == 2


def test_done_lists_the_incomplete_events_as_links_that_select_them(suggested, new_page):
    project, _article, layer = suggested
    page = open_layer(new_page, project, layer)
    page.click("#wb-accept-all")
    page.keyboard.press("Enter")
    wait_saved(page)

    page.evaluate("() => window.workbench.toggleDone()")
    links = page.locator("#wb-incomplete .wb-incomplete-link")
    assert links.all_inner_texts() == ["AID “sent”"]
    assert "needs actor" in page.locator("#wb-incomplete").inner_text()
    links.first.click()

    active = page.evaluate("() => window.workbench.ui.active")
    assert active["type"] == "t"
    assert page.locator(".wb-event.wb-current .wb-event-head").inner_text().startswith("AID")
    assert page.locator("#wb-status").inner_text() == "In progress"


# --- 5: an event made by hand settles its suggestion ---------------------------------------


def test_an_event_made_by_hand_settles_its_suggestion_so_accept_all_does_not_duplicate_it(suggested, new_page):
    project, _article, layer = suggested
    page = open_layer(new_page, project, layer)
    assert page.locator("#wb-suggested-events > li", has_text="CONSULT").count() == 1

    drag_select(page, "phone call")
    page.keyboard.press("Shift+E")
    page.keyboard.type("CONSULT")
    page.keyboard.press("Enter")
    wait_saved(page)
    assert page.locator("#wb-suggested-events > li", has_text="CONSULT").count() == 0
    assert page.locator(".wb-tag", has_text="CONSULT?").count() == 0

    page.click("#wb-accept-all")
    page.keyboard.press("Enter")
    wait_saved(page)

    data = api_get(page, f"/api/v1/projects/{project.slug}/layers/{layer.pk}/")
    assert sorted(e["event_type"] for e in data["events"]) == ["AID", "CONSULT"]


# --- 6: safeguards ---------------------------------------------------------------------------


def test_mark_done_warns_of_undecided_suggestions_then_offers_and_with_the_setting_opens_the_next_article(
    seeds, new_page
):
    project, _article, layer = seeds
    page = open_layer(new_page, project, layer)
    next_url = page.evaluate("() => window.workbench.store.urls.next")
    assert next_url

    page.keyboard.press("Shift+D")
    assert (
        "4 suggestion(s) are still undecided (4 mention(s), 0 event(s), 0 stance(s))"
        in page.locator("#wb-confirm-text").inner_text()
    )
    page.keyboard.press("Escape")
    wait_saved(page)
    assert page.locator("#wb-status").inner_text() != "Done"

    page.keyboard.press("Shift+D")
    page.keyboard.press("Enter")
    wait_saved(page)
    assert page.locator("#wb-status").inner_text() == "Done"
    assert page.locator("#wb-next-offer-link").get_attribute("href") == next_url

    page.check("#wb-after-done-next")
    page.focus("#wb-text")
    page.keyboard.press("Shift+D")  # reopen
    wait_saved(page)
    page.keyboard.press("Shift+D")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{next_url}")
    wait_ready(page)
    assert page.evaluate("() => localStorage.getItem('workbench.afterDone')") == "next"


# --- 11: the layer's items as a filterable list ----------------------------------------------


def test_the_item_list_filters_by_kind_label_text_incomplete_and_source_and_selects_in_the_text(suggested, new_page):
    project, article, layer = suggested
    page = open_layer(new_page, project, layer)
    click_text(page, "trainers")
    page.keyboard.press("q")
    wait_saved(page)
    page.focus("#wb-items-section > summary")
    page.keyboard.press("Enter")  # unfold the list
    rows = page.locator("#wb-item-list .wb-item-link")
    rows.first.wait_for()
    assert rows.all_inner_texts() == [  # in text order
        "GPE “Russia” suggested",
        "QUANTITY “trainers”",
        "GPE “Niger” suggested",
        "LOC “Europe” suggested",
        "GPE “USA” suggested",
    ]

    page.select_option("#wb-items-source", "hand")
    assert rows.all_inner_texts() == ["QUANTITY “trainers”"]
    page.select_option("#wb-items-source", "")
    page.select_option("#wb-items-label", "GPE")
    page.focus("#wb-items-text")
    page.keyboard.type("ni")
    assert rows.all_inner_texts() == ["GPE “Niger” suggested"]

    page.keyboard.press("Control+a")
    page.keyboard.press("Backspace")
    page.select_option("#wb-items-kind", "event")
    assert len(rows.all_inner_texts()) == 2
    page.check("#wb-items-incomplete")
    assert rows.all_inner_texts() == ["AID “sent” suggested incomplete: no actor"]
    rows.first.focus()
    page.keyboard.press("Enter")  # selects the suggested event in the text
    assert page.evaluate("() => window.workbench.ui.active.type") == "st"
    sent = article.text.index("sent")
    assert page.evaluate("() => window.workbench.ui.sel") == {"s": sent, "e": sent + 4}


# --- 12: guidelines beside the text ----------------------------------------------------------


def test_h_shows_the_project_guidelines_beside_the_text_with_help_on_what_is_selected(suggested, new_page):
    project, _article, layer = suggested
    project.guidelines = "# Our guide\n\nMark **every** country as GPE.\n\n<script>alert(1)</script>"
    project.save(update_fields=["guidelines"])
    page = open_layer(new_page, project, layer)
    guide = page.locator("#wb-guide")
    assert guide.is_hidden()

    page.keyboard.press("h")
    guide.locator("#wb-guide-text h1").wait_for()
    assert guide.locator("#wb-guide-text h1").inner_text() == "Our guide"
    assert guide.locator("#wb-guide-text strong").inner_text() == "every"
    assert guide.locator("script").count() == 0  # raw HTML in the Markdown stays text
    assert "<script>alert(1)</script>" in guide.inner_text()

    page.hover(".wb-label[data-label=GPE]")
    assert "Countries, cities, states" in page.locator("#wb-guide-label").inner_text()
    click_text(page, "sent")  # the suggested AID: its roles, modes, realis and contexts
    help_ = page.locator("#wb-guide-event")
    assert help_.locator("h3").inner_text() == "AID"
    assert help_.locator("tr[data-role=actor]").inner_text().split("\t") == [
        "1 actor",
        "1..n — required",
        "PERSON, ORG, GPE, NORP",
    ]
    assert "Modes: military, economic, humanitarian" in help_.inner_text()
    assert "future — announced or planned" in help_.inner_text()

    page.keyboard.press("h")
    assert guide.is_hidden()
    assert page.dialogs == [] and page.errors == []


# --- 15: keys for the roles, the stance holder and the actor search; the help stays true -----


def test_number_keys_arm_roles_shift_h_picks_the_holder_and_shift_a_goes_to_the_actor_search(seeds, new_page):
    project, _article, layer = seeds
    page = open_layer(new_page, project, layer)
    click_text(page, "sends")
    page.keyboard.press("Shift+E")
    page.keyboard.type("AID")
    page.keyboard.press("Enter")
    wait_saved(page)

    page.keyboard.press("2")  # AID's roles: actor, recipient, place, time, artifact
    assert page.evaluate("() => window.workbench.ui.armed.role") == "recipient"
    click_text(page, "Niger")  # a suggestion: accepted into the role
    wait_saved(page)
    page.keyboard.press("1")
    assert page.evaluate("() => window.workbench.ui.armed.role") == "actor"
    click_text(page, "Russia")
    wait_saved(page)
    data = api_get(page, f"/api/v1/projects/{project.slug}/layers/{layer.pk}/")
    texts = {m["id"]: m["text"] for m in data["mentions"]}
    assert sorted((a["role"], texts[a["mention"]]) for a in data["events"][0]["arguments"]) == [
        ("actor", "Russia"),
        ("recipient", "Niger"),
    ]

    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    drag_select(page, "is increasingly turning away from Europe and the USA")
    page.keyboard.press("Shift+S")
    click_text(page, "USA")  # the target; the focus is on the stance radios now
    wait_saved(page)
    page.keyboard.press("Shift+H")
    click_text(page, "Niger")  # the mention accepted above
    wait_saved(page)
    assert page.locator("#wb-stance-holder option:checked").inner_text() == "Niger (GPE)"
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    wait_saved(page)
    (stance,) = api_get(page, f"/api/v1/projects/{project.slug}/layers/{layer.pk}/")["stances"]
    assert stance["holder"] is not None and stance["label"] == "AGAINST"

    click_text(page, "Russia")  # a mention of the layer now
    page.keyboard.press("Shift+A")
    assert page.evaluate("() => document.activeElement.id") == "wb-actor-search"


def test_the_keyboard_help_lists_every_command_key(seeds, new_page):
    project, _article, layer = seeds
    page = open_layer(new_page, project, layer)

    page.keyboard.press("?")
    help_ = page.locator("#wb-help")
    assert help_.is_visible()
    keys = help_.locator("th").all_inner_texts()
    commands = page.evaluate("() => Object.keys(window.workbench.commands())")

    assert [f"Shift+{c}" for c in commands if not any(f"Shift+{c}" in k for k in keys)] == []
    for listed in ("1 … 5", "h", "/ or Ctrl+F", "?", "Ctrl+Z", "Enter", "] / ["):
        assert listed in keys


# --- 10: find in the article -------------------------------------------------------------------


def test_slash_finds_text_enter_steps_through_hits_and_a_label_key_makes_the_hit_a_mention(seeds, new_page):
    project, article, layer = seeds
    page = open_layer(new_page, project, layer)

    page.keyboard.press("/")
    page.keyboard.type("niamey")
    count = page.locator("#wb-find-count")
    hits = article.text.count("Niamey")
    assert count.inner_text() == f"1 of {hits}"
    page.keyboard.press("Enter")
    assert count.inner_text() == f"2 of {hits}"
    page.keyboard.press("Shift+Enter")
    page.keyboard.press("Shift+Enter")
    assert count.inner_text() == f"{hits} of {hits}"
    page.keyboard.press("Enter")  # wraps to the first
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")  # the box closes, the second hit stays selected
    assert page.locator("#wb-find").is_hidden()
    page.keyboard.press("g")
    wait_saved(page)

    second = article.text.index("Niamey", article.text.index("Niamey") + 1)
    (mention,) = api_get(page, f"/api/v1/projects/{project.slug}/layers/{layer.pk}/")["mentions"]
    assert (mention["label"], mention["start"], mention["text"]) == ("GPE", second, "Niamey")

    page.keyboard.press("Control+f")
    assert page.evaluate("() => document.activeElement.id") == "wb-find-input"


# --- 14: progress in the queue ---------------------------------------------------------------


def test_the_progress_line_shows_the_queue_position_and_the_undecided_suggestions(seeds, new_page):
    project, _article, layer = seeds
    progress = queue_progress(layer=layer)
    plain = open_layer(new_page, project, layer)
    assert plain.locator("#wb-progress").inner_text() == (
        f"article {progress['position']} of {progress['queue_size']} in your queue, {progress['done']} done"
    )
    assert plain.locator("#wb-undecided").inner_text() == "· 4 suggestion(s) undecided"

    click_text(plain, "Europe")
    plain.keyboard.press("Delete")
    wait_saved(plain)
    assert plain.locator("#wb-undecided").inner_text() == "· 3 suggestion(s) undecided"


# --- 13: history ---------------------------------------------------------------------------------


HISTORY = {
    "results": [
        {
            "id": 8,
            "at": "2026-12-01T10:02:00Z",
            "user": "annotator1",
            "action": "create",
            "kind": "mention",
            "item_id": 41,
            "summary": "add QUANTITY “trainers”",
            "undoable": True,
        },
        {
            "id": 7,
            "at": "2026-12-01T10:01:00Z",
            "user": "annotator1",
            "action": "update",
            "kind": "event",
            "item_id": 3,
            "summary": "recipient of AID = “Niger”",
            "undoable": False,
        },
    ]
}


def open_history(page) -> None:
    page.focus("#wb-history-section > summary")
    page.keyboard.press("Enter")


def test_the_history_panel_lists_the_servers_changes_and_undoes_one(seeds, new_page):
    project, _article, layer = seeds
    page = new_page()
    log_in(page, "annotator1", PASSWORD)
    undone = []
    page.route("**/history/?limit=20", lambda route: route.fulfill(json=HISTORY))
    page.route(
        "**/history/8/undo/",
        lambda route: (undone.append(route.request.post_data_json), route.fulfill(json={"layer_version": 2})),
    )
    page.goto(f"/admin/workspace/{project.slug}/layers/{layer.pk}/")
    wait_ready(page)

    open_history(page)
    entries = page.locator("#wb-history-list .wb-history-entry")
    entries.first.wait_for()
    assert entries.locator(".wb-history-summary").all_inner_texts() == [
        "add QUANTITY “trainers”",
        "recipient of AID = “Niger”",
    ]
    assert entries.nth(1).locator("button").is_disabled()
    entries.first.locator("button").focus()
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('#wb-message')?.textContent.startsWith('Undone')")

    assert undone == [{"version": 1}]


def test_the_history_panel_reads_the_servers_change_log_and_undoes_through_it(seeds, new_page):
    project, _article, layer = seeds
    page = new_page()
    log_in(page, "annotator1", PASSWORD)
    page.goto(f"/admin/workspace/{project.slug}/layers/{layer.pk}/")
    wait_ready(page)
    click_text(page, "trainers")
    page.keyboard.press("q")
    wait_saved(page)

    open_history(page)
    entries = page.locator("#wb-history-list .wb-history-entry")
    entries.first.wait_for()
    assert entries.locator(".wb-history-summary").all_inner_texts() == ["added QUANTITY “trainers”"]
    entries.first.locator("button").focus()
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('#wb-message')?.textContent.startsWith('Undone')")

    assert layer_state(page)["mentions"] == []
    layer.refresh_from_db()
    assert layer.mentions.count() == 0


def test_without_a_server_history_the_panel_shows_this_sessions_changes(seeds, new_page):
    project, _article, layer = seeds
    page = new_page()
    log_in(page, "annotator1", PASSWORD)
    page.route("**/history/?limit=20", lambda route: route.fulfill(status=404, json={"detail": "Not found."}))
    page.goto(f"/admin/workspace/{project.slug}/layers/{layer.pk}/")
    wait_ready(page)
    click_text(page, "trainers")
    page.keyboard.press("q")
    wait_saved(page)

    open_history(page)
    entries = page.locator("#wb-history-list .wb-history-entry")
    entries.first.wait_for()
    assert entries.locator(".wb-history-summary").all_inner_texts() == ["add QUANTITY “trainers”"]
    entries.first.locator("button").click()
    wait_saved(page)
    assert layer_state(page)["mentions"] == []


# --- 16: folding sections -------------------------------------------------------------------------


def test_folded_suggested_events_stay_folded_across_a_reload_and_bring_the_stances_up(suggested, new_page):
    project, _article, layer = suggested
    page = open_layer(new_page, project, layer)
    stances_top = page.evaluate("() => document.getElementById('wb-stances').offsetTop")

    page.focus("#wb-suggested-events-section > summary")
    page.keyboard.press("Enter")  # fold
    assert page.locator("#wb-suggested-events").is_hidden()
    assert page.evaluate("() => document.getElementById('wb-stances').offsetTop") < stances_top

    page.reload()
    wait_ready(page)
    assert page.locator("#wb-suggested-events").is_hidden()
    assert page.evaluate("() => localStorage.getItem('workbench.section.suggested-events')") == "closed"
