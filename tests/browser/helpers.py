"""Driving the annotate page like an annotator: log in, find text on screen, drag, click, wait."""

from __future__ import annotations

from typing import Any

from annotations.models import Article, Event, EventArgument, Layer, Mention

# The on-screen box of the nth occurrence of `needle` in the article text (scrolled into view).
SPAN_BOX = """([needle, nth]) => {
  const app = window.workbench;
  let at = -1;
  for (let i = 0; i <= nth; i++) { at = app.store.text.indexOf(needle, at + 1); if (at < 0) return null; }
  const charBox = (cp) => {
    const p = app.text.domFromCp(cp);
    const r = document.createRange(); r.setStart(p.node, p.offset); r.setEnd(p.node, p.offset + 1);
    return r.getBoundingClientRect();
  };
  const first = charBox(at);
  if (first.top < 60 || first.bottom > window.innerHeight - 20) window.scrollBy(0, first.top - window.innerHeight / 2);
  const f = charBox(at), l = charBox(at + needle.length - 1);
  return {x1: f.left + 1, y1: f.top + f.height / 2, x2: l.right - 1, y2: l.top + l.height / 2, start: at};
}"""


def log_in(page: Any, username: str, password: str) -> None:
    page.goto("/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")


def wait_ready(page: Any) -> None:
    page.wait_for_selector("html[data-workbench-ready='1']")


def wait_saved(page: Any) -> None:
    page.wait_for_function("() => !window.workbench.saver.busy")


def box(page: Any, needle: str, nth: int = 0) -> dict[str, float]:
    found = page.evaluate(SPAN_BOX, [needle, nth])
    assert found, f"{needle!r} is not in the article text"
    return found


def drag_select(page: Any, needle: str, nth: int = 0) -> None:
    """Select text with the mouse, from the first character of `needle` to its last."""
    b = box(page, needle, nth)
    page.mouse.move(b["x1"], b["y1"])
    page.mouse.down()
    page.mouse.move((b["x1"] + b["x2"]) / 2, b["y2"], steps=4)
    page.mouse.move(b["x2"], b["y2"], steps=4)
    page.mouse.up()


def click_text(page: Any, needle: str, nth: int = 0) -> None:
    b = box(page, needle, nth)
    page.mouse.click(b["x1"] + 2, b["y1"])


def layer_state(page: Any) -> dict[str, Any]:
    return page.evaluate(
        """() => { const s = window.workbench.store; return {
            version: s.layer.version, status: s.layer.status,
            mentions: [...s.mentions.values()].map(m => [m.label, m.text]).sort(),
            events: [...s.events.values()].length, stances: [...s.stances.values()].length }; }"""
    )


def api_get(page: Any, path: str) -> dict[str, Any]:
    """GET through the page's session (the API an ML client or a reviewer would read)."""
    response = page.request.get(path)
    assert response.ok, f"{path}: {response.status} {response.text()}"
    return response.json()


def find(text: str, needle: str, nth: int = 0) -> int:
    start = -1
    for _ in range(nth + 1):
        start = text.index(needle, start + 1)
    return start


def machine_mentions(article: Article, found: list[tuple[str, str, int]]) -> Layer:
    """Suggestions as pre-annotation stores them (the spaCy run itself is tested elsewhere)."""
    layer = Layer.objects.create(article=article, kind=Layer.Kind.MACHINE, model_version="test-1", status="done")
    for needle, label, nth in found:
        start = find(article.text, needle, nth)
        Mention.objects.create(layer=layer, label=label, start=start, end=start + len(needle), text=needle, score=0.9)
    return layer


def machine_event(layer: Layer, event_type: str, trigger: str, arguments: dict[str, str], nth: int = 0) -> Event:
    """A suggested event in the machine layer; its arguments name machine mentions by their text."""
    text = layer.article.text
    start = find(text, trigger, nth)
    event = Event.objects.create(
        layer=layer,
        event_type=event_type,
        trigger_start=start,
        trigger_end=start + len(trigger),
        trigger_text=trigger,
        realis="actual",
        score=0.8,
    )
    for role, needle in arguments.items():
        EventArgument.objects.create(event=event, role=role, mention=layer.mentions.get(text=needle))
    return event
