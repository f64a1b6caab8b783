// The article text: drawn as spans split at annotation boundaries (a boundary sweep), with a
// small label tag after each annotation. Offsets are code points (as in Python and the API);
// the DOM counts UTF-16 units, so both are converted when the text has astral characters.

import { h } from "./dom.js";

// m: mention, s: suggestion, t: event trigger, st: suggested event; on the review page c / ct:
// an annotator's mention / event not in gold yet (a candidate).
const PRIORITY = { m: 0, s: 1, c: 1, t: 2, st: 3, ct: 3 };

export class TextView {
  constructor(root, svg, text, tokens) {
    this.root = root;
    this.svg = svg;
    this.text = text;
    this.tokens = tokens; // Int32Array [start0, end0, start1, end1, …] in code points
    this.astral = /[\uD800-\uDFFF]/.test(text);
    if (this.astral) {
      const units = [];
      let unit = 0;
      for (const ch of text) {
        units.push(unit);
        unit += ch.length;
      }
      units.push(unit);
      this.cpToUnit = Uint32Array.from(units);
      this.length = units.length - 1;
    } else {
      this.length = text.length;
    }
    this.els = new Map(); // item key → elements (segments and tag)
    this.tags = new Map(); // item key → tag element
    this.segKeys = []; // segment index → item keys covering it, innermost first
    this.nodes = [];
    this.nodeStarts = [];
  }

  unit(cp) {
    return this.astral ? this.cpToUnit[cp] : cp;
  }

  slice(start, end) {
    return this.text.slice(this.unit(start), this.unit(end));
  }

  // --- Drawing ---------------------------------------------------------------------------

  render(items) {
    const starts = new Map();
    const ends = new Map();
    const bounds = new Set([0, this.length]);
    for (const item of items) {
      if (!(item.s < item.e)) continue;
      item.len = item.e - item.s;
      bounds.add(item.s);
      bounds.add(item.e);
      (starts.get(item.s) || starts.set(item.s, []).get(item.s)).push(item);
      (ends.get(item.e) || ends.set(item.e, []).get(item.e)).push(item);
    }
    const sorted = Float64Array.from(bounds).sort();
    const frag = document.createDocumentFragment();
    const active = new Set();
    this.els = new Map();
    this.tags = new Map();
    this.segKeys = [];
    this.nodes = [];
    this.nodeStarts = [];
    for (let i = 0; i < sorted.length; i++) {
      const b = sorted[i];
      const ending = ends.get(b);
      if (ending) {
        for (const item of ending) active.delete(item);
        ending.sort((x, y) => x.len - y.len || PRIORITY[x.type] - PRIORITY[y.type]);
        for (const item of ending) frag.append(this.tag(item, b));
      }
      const starting = starts.get(b);
      if (starting) for (const item of starting) active.add(item);
      if (i + 1 >= sorted.length) break;
      const node = document.createTextNode(this.slice(b, sorted[i + 1]));
      this.nodes.push(node);
      this.nodeStarts.push(b);
      frag.append(active.size ? this.segment(active, node) : node);
    }
    this.root.replaceChildren(frag);
    this.clearArcs();
  }

  segment(active, node) {
    const list = Array.from(active).sort((x, y) => PRIORITY[x.type] - PRIORITY[y.type] || x.len - y.len);
    const span = document.createElement("span");
    const classes = ["wb-seg"];
    let mentions = 0;
    let suggestion = false;
    let candidate = false;
    for (const item of list) {
      if (item.type === "m") {
        mentions += 1;
        if (mentions <= 3) {
          classes.push(mentions === 1 ? "wb-m" : `wb-m${mentions}`);
          span.style.setProperty(mentions === 1 ? "--c" : `--c${mentions}`, item.color);
        }
      } else if (item.type === "s" && !suggestion) {
        suggestion = true;
        classes.push("wb-s");
        span.style.setProperty("--sc", item.color);
      } else if (item.type === "c" && !candidate && !suggestion) {
        candidate = true;
        classes.push("wb-c");
        span.style.setProperty("--sc", item.color);
      } else if (item.type === "t") classes.push("wb-t");
      else if (item.type === "st" || item.type === "ct") classes.push("wb-st");
      if (item.disputed) classes.push(item.type === "ct" ? "wb-ct-disputed" : "wb-c-disputed");
      if (item.unsaved) classes.push("wb-unsaved");
      const els = this.els.get(item.key);
      if (els) els.push(span);
      else this.els.set(item.key, [span]);
    }
    span.className = classes.join(" ");
    span.dataset.i = String(this.segKeys.length);
    this.segKeys.push(list.map((item) => item.key));
    span.append(node);
    return span;
  }

  tag(item, at) {
    const tag = h(
      "span",
      {
        class: `wb-tag wb-tag-${item.type}${item.disputed ? " wb-tag-disputed" : ""}${item.unsaved ? " wb-unsaved" : ""}`,
        dataset: { key: item.key, at: String(at) },
        title: item.title || "",
        contenteditable: "false",
      },
      item.tag,
    );
    if (item.color) tag.style.setProperty("--c", item.color);
    this.tags.set(item.key, tag);
    const els = this.els.get(item.key);
    if (els) els.push(tag);
    else this.els.set(item.key, [tag]);
    return tag;
  }

  // --- Highlights and arcs ---------------------------------------------------------------

  mark(keys, cls) {
    for (const el of this.root.querySelectorAll(`.${cls}`)) el.classList.remove(cls);
    for (const key of keys) for (const el of this.els.get(key) || []) el.classList.add(cls);
  }

  setRoles(roles) {
    // roles: Map key → role name, shown on the argument's tag
    for (const el of this.root.querySelectorAll(".wb-tag[data-role]")) el.removeAttribute("data-role");
    for (const [key, role] of roles) {
      const tag = this.tags.get(key);
      if (tag) tag.dataset.role = tag.dataset.role ? `${tag.dataset.role}, ${role}` : role;
    }
  }

  clearArcs() {
    this.svg.replaceChildren();
  }

  drawArcs(fromKey, targets) {
    this.clearArcs();
    const from = (this.els.get(fromKey) || [])[0];
    if (!from || !targets.length) return;
    const box = this.svg.parentElement.getBoundingClientRect();
    this.svg.setAttribute("width", String(box.width));
    this.svg.setAttribute("height", String(box.height));
    const ns = "http://www.w3.org/2000/svg";
    const a = from.getBoundingClientRect();
    const x1 = a.left + a.width / 2 - box.left;
    const y1 = a.top - box.top;
    for (const { key, label } of targets) {
      const el = (this.els.get(key) || [])[0];
      if (!el) continue;
      const b = el.getBoundingClientRect();
      const x2 = b.left + b.width / 2 - box.left;
      const y2 = b.top - box.top;
      const lift = Math.min(70, 18 + Math.abs(x2 - x1) / 6 + Math.abs(y2 - y1) / 4);
      const top = Math.min(y1, y2) - lift;
      const path = document.createElementNS(ns, "path");
      path.setAttribute("d", `M ${x1} ${y1} C ${x1} ${top}, ${x2} ${top}, ${x2} ${y2}`);
      path.setAttribute("class", "wb-arc");
      const text = document.createElementNS(ns, "text");
      text.setAttribute("x", String((x1 + x2) / 2));
      text.setAttribute("y", String(top + lift * 0.25));
      text.setAttribute("class", "wb-arc-label");
      text.textContent = label;
      this.svg.append(path, text);
    }
  }

  // --- Offsets ↔ DOM ---------------------------------------------------------------------

  cpFromDom(node, offset) {
    const tag = node.nodeType === 1 ? node.closest?.(".wb-tag") : node.parentElement?.closest(".wb-tag");
    if (tag) return Number(tag.dataset.at);
    const range = document.createRange();
    range.setStart(node, offset);
    // The first text node whose start is at or after the point.
    let lo = 0;
    let hi = this.nodes.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (range.comparePoint(this.nodes[mid], 0) >= 0) hi = mid;
      else lo = mid + 1;
    }
    if (node.nodeType === 3 && lo > 0 && this.nodes[lo - 1] === node) {
      return this.nodeStarts[lo - 1] + this.unitsToCp(node.data, offset);
    }
    if (node.nodeType === 3 && this.nodes[lo] === node) {
      return this.nodeStarts[lo] + this.unitsToCp(node.data, offset);
    }
    return lo < this.nodes.length ? this.nodeStarts[lo] : this.length;
  }

  unitsToCp(data, offset) {
    return this.astral ? Array.from(data.slice(0, offset)).length : offset;
  }

  // The DOM position of offset cp; an end position stays in the node that ends there (so a
  // selection does not reach over the tag after it).
  domFromCp(cp, end = false) {
    let lo = 0;
    let hi = this.nodes.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.nodeStarts[mid] <= cp) lo = mid;
      else hi = mid - 1;
    }
    if (end && lo > 0 && this.nodeStarts[lo] === cp) lo -= 1;
    const node = this.nodes[lo];
    const start = this.nodeStarts[lo];
    const offset = this.astral ? this.unit(cp) - this.unit(start) : cp - start;
    return { node, offset: Math.min(offset, node.data.length) };
  }

  readSelection() {
    const sel = window.getSelection();
    if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return null;
    const range = sel.getRangeAt(0);
    if (!this.root.contains(range.commonAncestorContainer)) return null;
    const s = this.cpFromDom(range.startContainer, range.startOffset);
    const e = this.cpFromDom(range.endContainer, range.endOffset);
    return s < e ? { s, e } : null;
  }

  showSelection(s, e, scroll = true) {
    const sel = window.getSelection();
    if (s === null || s === undefined) {
      sel.removeAllRanges();
      return;
    }
    const a = this.domFromCp(s);
    const b = this.domFromCp(e, true);
    sel.setBaseAndExtent(a.node, a.offset, b.node, b.offset);
    if (scroll) {
      const r = sel.getRangeAt(0).getBoundingClientRect();
      if (r.top < 80 || r.bottom > window.innerHeight - 40) window.scrollBy(0, r.top - window.innerHeight / 2);
    }
  }

  rectOf(cp) {
    const { node, offset } = this.domFromCp(cp);
    const range = document.createRange();
    range.setStart(node, offset);
    range.setEnd(node, Math.min(node.data.length, offset + 1));
    return range.getBoundingClientRect();
  }

  cpAtPoint(x, y) {
    const pos = document.caretRangeFromPoint?.(x, y);
    if (!pos || !this.root.contains(pos.startContainer)) return null;
    return this.cpFromDom(pos.startContainer, pos.startOffset);
  }

  // --- Tokens ----------------------------------------------------------------------------

  tokenCount() {
    return this.tokens.length / 2;
  }

  tokenStart(i) {
    return this.tokens[2 * i];
  }

  tokenEnd(i) {
    return this.tokens[2 * i + 1];
  }

  // Index of the first token ending after cp (the token at or after cp).
  tokenAfter(cp) {
    let lo = 0;
    let hi = this.tokenCount();
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.tokens[2 * mid + 1] > cp) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  // Index of the last token starting before cp.
  tokenBefore(cp) {
    let lo = -1;
    let hi = this.tokenCount() - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.tokens[2 * mid] < cp) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  // Snap [s, e) outward to whole tokens (white space at the edges is dropped); null if no token.
  snap(s, e) {
    const i = this.tokenAfter(s);
    const j = this.tokenBefore(e);
    if (i >= this.tokenCount() || j < 0 || j < i) return null;
    return { s: this.tokenStart(i), e: this.tokenEnd(j), first: i, last: j };
  }
}
