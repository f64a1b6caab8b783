"""Driving the annotate page like an annotator: log in, find text on screen, drag, click, wait."""

from __future__ import annotations

from typing import Any

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
