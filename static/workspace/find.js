// Find in the article (/ or Ctrl+F): hits of the typed text, case-insensitive; Enter / Shift+Enter
// go to the next / previous hit (highlighted: selecting text would take the focus from the box),
// Esc closes the box and selects the hit (snapped to whole words), so a label key makes it a mention.

export class Find {
  constructor(app) {
    this.app = app;
    this.box = document.getElementById("wb-find");
    this.input = document.getElementById("wb-find-input");
    this.count = document.getElementById("wb-find-count");
    this.hits = []; // [s, e] in code points
    this.index = -1;
    // Lower-casing may change the length of a few characters ("İ"): then the search is case-sensitive,
    // so that hit offsets stay the text's own.
    const lower = app.store.text.toLowerCase();
    this.fold = lower.length === app.store.text.length;
    this.lower = this.fold ? lower : app.store.text;
    // UTF-16 index → code point offset, only needed when the text has characters beyond the BMP.
    this.astral = app.store.text.length !== app.chars.length;
    if (!this.box) return;
    this.input.addEventListener("input", () => this.search());
    this.input.addEventListener("keydown", (event) => this.onKey(event));
  }

  cp(index) {
    if (!this.astral) return index;
    return [...this.app.store.text.slice(0, index)].length;
  }

  open() {
    if (!this.box) return;
    this.box.hidden = false;
    this.input.focus();
    this.input.select();
  }

  close() {
    this.box.hidden = true;
    this.highlight(null);
    this.app.el.text.focus({ preventScroll: true });
    if (this.index >= 0) {
      const [s, e] = this.hits[this.index];
      const snapped = this.app.text.snap(s, e);
      if (snapped) this.app.select(snapped, { scroll: true });
    }
  }

  highlight(range) {
    if (typeof CSS === "undefined" || !CSS.highlights) return; // older browsers: the count only
    if (range) CSS.highlights.set("wb-find", new Highlight(range));
    else CSS.highlights.delete("wb-find");
  }

  search() {
    const q = this.fold ? this.input.value.toLowerCase() : this.input.value;
    this.hits = [];
    if (q.trim()) {
      for (let at = this.lower.indexOf(q); at >= 0 && this.hits.length < 5000; at = this.lower.indexOf(q, at + 1))
        this.hits.push([this.cp(at), this.cp(at + q.length)]);
    }
    // Live: the first hit at or after the selection.
    const from = this.app.ui.sel ? this.app.ui.sel.s : 0;
    const next = this.hits.findIndex(([s]) => s >= from);
    this.go(this.hits.length ? (next >= 0 ? next : 0) : -1);
  }

  go(index) {
    this.index = index;
    if (index < 0) {
      this.highlight(null);
      this.count.textContent = this.input.value.trim() ? "no hit" : "";
      return;
    }
    const [s, e] = this.hits[index];
    this.count.textContent = `${index + 1} of ${this.hits.length}`;
    const a = this.app.text.domFromCp(s);
    const b = this.app.text.domFromCp(e, true);
    const range = document.createRange();
    range.setStart(a.node, a.offset);
    range.setEnd(b.node, b.offset);
    this.highlight(range);
    const r = range.getBoundingClientRect();
    if (r.top < 80 || r.bottom > window.innerHeight - 40) window.scrollBy(0, r.top - window.innerHeight / 2);
  }

  step(direction) {
    if (!this.hits.length) return;
    this.go((this.index + direction + this.hits.length) % this.hits.length);
  }

  onKey(event) {
    if (event.key === "Enter") {
      event.preventDefault();
      event.stopPropagation();
      this.step(event.shiftKey ? -1 : 1);
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      this.close();
    }
  }
}
