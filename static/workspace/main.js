// The annotate page: wires the text, the panels, the keyboard and the save queue together.
// The review page is the same page on the gold layer (data.mode "review"): the Compare panel
// (review.js) takes the Suggestions panel's place and the annotators' items show as candidates.
// window.workbenchTimings holds what the bench (bench/annotate_page.py) reads.

import { Api } from "./api.js";
import {
  Saver,
  eventCreate,
  eventUpdate,
  mentionCreate,
  mentionDelete,
  mentionUpdate,
  resolveMention,
  stanceCreate,
  stanceDelete,
  statusSet,
  suggestionsDecide,
  eventDelete,
} from "./changes.js";
import { h, quote, replace } from "./dom.js";
import { incompleteEvents, missingRoles, renderEvents } from "./events.js";
import { Find } from "./find.js";
import { renderGuide, renderGuideContext, toggleGuide } from "./guide.js";
import { historyOpen, loadHistory, renderHistory } from "./history.js";
import { renderInspector } from "./inspector.js";
import { renderItems } from "./items.js";
import { renderPalette, updatePalette } from "./palette.js";
import {
  argumentKeys,
  candidateAt,
  candidateItems,
  candidateKey,
  findGroup,
  goldMerge,
  goldPick,
  groupOfKey,
  groupsOf,
  reloadComparison,
  renderCandidate,
  renderCompare,
  renderReviewBar,
} from "./review.js";
import { saveSetting, setting } from "./sections.js";
import { draftToFields, renderStances } from "./stance.js";
import { Store } from "./store.js";
import { renderSuggestions } from "./suggestions.js";
import { TextView } from "./text.js";

// localStorage: "next" when the annotator wants the next article opened after Mark done.
const AFTER_DONE = "workbench.afterDone";

const timings = (window.workbenchTimings = { ready: false, selections: [], changes: [] });

class App {
  constructor(data) {
    this.store = new Store(data);
    this.review = this.store.mode === "review";
    this.api = new Api(data.urls.api, data.csrf_token);
    this.el = {
      app: document.getElementById("wb-app"),
      text: document.getElementById("wb-text"),
      arcs: document.getElementById("wb-arcs"),
      palette: document.getElementById("wb-palette"),
      inspector: document.getElementById("wb-inspector"),
      events: document.getElementById("wb-events"),
      stances: document.getElementById("wb-stances"),
      items: document.getElementById("wb-items"),
      guide: document.getElementById("wb-guide"),
      history: document.getElementById("wb-history"),
      progress: document.getElementById("wb-progress"),
      undecided: document.getElementById("wb-undecided"),
      suggestions: document.getElementById("wb-suggestions"),
      compare: document.getElementById("wb-compare"),
      save: document.getElementById("wb-save"),
      alert: document.getElementById("wb-alert"),
      status: document.getElementById("wb-status"),
      version: document.getElementById("wb-version"),
      undo: document.getElementById("wb-undo"),
      done: document.getElementById("wb-done"),
      prev: document.getElementById("wb-prev"),
      next: document.getElementById("wb-next"),
      help: document.getElementById("wb-help"),
      confirm: document.getElementById("wb-confirm"),
      helpButton: document.getElementById("wb-help-button"),
    };
    this.ui = {
      sel: null, // { s, e } in code points, snapped to tokens
      anchor: null, // token indexes of the keyboard selection
      focus: null,
      active: null, // { type: "m" | "s" | "t" | "st" | "stance", id }
      armed: null, // { event, role }: the role slot a click fills
      picker: null, // { s, e }: choosing the type of a new event
      stanceDraft: null,
      pick: null, // "holder" | "target": a click picks it for the stance draft
      lastSeg: -1,
      onlyDisputed: false, // review: the Compare panel shows disputed groups only
      onlyIncomplete: false, // suggested events: only those lacking a required role
      items: { kind: "mention", label: "", text: "", incomplete: false, source: "" }, // the Items list's filters
      revealRow: false, // review: scroll the Compare panel to the active group once
    };
    this.comparisonStale = false; // review: gold changed directly since the comparison was loaded
    this.saveState = { text: "", level: "ok" };
    this.message = null;
    this.problems = null; // { title, events: [{ event, missing }] }: why the layer can't be closed yet
    this.progress = data.progress || null; // { position, queue_size, done } in the annotator's queue
    this.history = { server: null, entries: [], error: null, wasOpen: false }; // the History panel
    this.sessionLog = []; // { at, label, change }: what this page saved (the History fallback)
    this.text = new TextView(this.el.text, this.el.arcs, this.store.text, Int32Array.from(data.tokens));
    this.chars = [...this.store.text];
    this.saver = new Saver(this.store, this.api, {
      saving: (change) => this.setSave(`Saving: ${change.label}…`, "busy"),
      saved: (change) => {
        if (this.review && !change.refreshesReview) this.comparisonStale = true;
        this.setSave(`Saved: ${change.label}`, "ok");
        this.sessionLog.push({ at: Date.now(), label: change.label, change });
        if (this.sessionLog.length > 50) this.sessionLog.shift();
        timings.changes.push({ label: change.label, ms: performance.now() - (change.startedAt || performance.now()) });
      },
      failed: (change, error) => this.setSave(error ? `Not saved: ${change.label}` : `Waiting: ${change.label}`, "error"),
      message: (text, level) => this.flash(text, level),
      idle: () => {
        this.renderBar();
        if (historyOpen()) loadHistory(this);
        if (this.comparisonStale) this.refreshComparison();
      },
    });
    this.store.subscribe((change) => this.refresh(change));
    this.find = new Find(this);
    this.bind();
  }

  // --- Helpers ------------------------------------------------------------------------------

  spanText(s, e) {
    return this.chars.slice(s, e).join("");
  }

  async refreshComparison() {
    this.comparisonStale = false;
    try {
      await reloadComparison(this);
    } catch (err) {
      this.flash(`Could not reload the comparison: ${err.message}`, "error");
    }
  }

  activeMention() {
    const a = this.ui.active;
    return a && a.type === "m" ? this.store.get("mention", a.id) : null;
  }

  run(change) {
    change.startedAt = performance.now();
    const ok = this.saver.run(change);
    return ok ? change : null;
  }

  // Scroll the tools column (not the page) to show a panel.
  reveal(panel) {
    const side = panel.parentElement;
    if (side.scrollHeight > side.clientHeight) side.scrollTop = panel.offsetTop - side.offsetTop - 4;
  }

  // A hint ({ hint: true }) tells what to do next in a form or a mode; it goes when that ends.
  flash(text, level = "info", { hint = false } = {}) {
    this.message = { text, level, at: Date.now(), hint };
    this.renderBar();
  }

  dropHint() {
    if (this.message && this.message.hint) this.message = null;
  }

  setSave(text, level) {
    this.saveState = { text, level };
    this.renderBar();
  }

  hoverLabel(code) {
    this.ui.hoverLabel = code;
    renderGuideContext(this);
  }

  // --- Rendering ----------------------------------------------------------------------------

  textItems() {
    const store = this.store;
    const items = [];
    for (const m of store.mentions.values()) {
      const type = store.entityTypes.get(m.label);
      items.push({
        key: `m:${m.id}`,
        type: "m",
        s: m.start,
        e: m.end,
        color: store.colour(m.label),
        tag: m.label,
        title: `${m.label}${type ? ` — ${type.name}` : ""}: ${m.text}${m.actor_name ? ` → actor ${m.actor_name}` : ""}`,
        unsaved: store.isUnsaved("mention", m.id),
      });
    }
    for (const m of store.suggestions("mention")) {
      items.push({
        key: `s:${m.id}`,
        type: "s",
        s: m.start,
        e: m.end,
        color: store.colour(m.label),
        tag: `${m.label}${m.score === null ? "" : ` ${m.score.toFixed(2)}`}`,
        title: `Suggestion ${m.label} (score ${m.score === null ? "—" : m.score.toFixed(2)}): Enter accepts, Delete rejects`,
      });
    }
    for (const ev of store.events.values()) {
      items.push({
        key: `t:${ev.id}`,
        type: "t",
        s: ev.trigger_start,
        e: ev.trigger_end,
        color: "#4a4a4a",
        tag: ev.event_type,
        title: `Event ${ev.event_type} (${ev.realis}${ev.mode ? `, ${ev.mode}` : ""})`,
        unsaved: store.isUnsaved("event", ev.id),
      });
    }
    for (const ev of store.suggestions("event")) {
      items.push({
        key: `st:${ev.id}`,
        type: "st",
        s: ev.trigger_start,
        e: ev.trigger_end,
        color: "#777777",
        tag: `${ev.event_type}?`,
        title: `Suggested event ${ev.event_type}`,
      });
    }
    if (this.review) items.push(...candidateItems(store));
    return items;
  }

  renderText() {
    const t = performance.now();
    this.text.render(this.textItems());
    timings.lastTextRender = performance.now() - t;
  }

  refresh(change = {}) {
    if (change.text) this.renderText();
    if (change.reloaded) {
      this.ui.active = null;
      this.ui.armed = null;
    }
    this.renderPanels();
    this.showActive({ scroll: false });
  }

  // A selected suggestion that is decided meanwhile (accepted with others, say) is no longer offered
  // for a decision: the mention it became is selected instead, or nothing.
  settleActive() {
    const a = this.ui.active;
    if (!a || (a.type !== "s" && a.type !== "st")) return;
    const kind = a.type === "s" ? "mention" : "event";
    if (this.store.isPending(kind, a.id)) return;
    const item = kind === "mention" ? this.store.machineMention(a.id) : null;
    const own = item ? this.store.mentionAt(item.start, item.end) : null;
    if (own) this.ui.active = { type: "m", id: own.id };
  }

  renderPanels() {
    this.settleActive();
    // Keep the focus (and caret) of a form control across the re-render.
    const focused = document.activeElement;
    const fid = focused && focused.dataset ? focused.dataset.fid : null;
    const value = fid && "value" in focused ? focused.value : null;
    const caret = fid && typeof focused.selectionStart === "number" ? focused.selectionStart : null;
    updatePalette(this);
    if (this.review && this.ui.active && this.ui.active.type === "c") renderCandidate(this);
    else renderInspector(this);
    renderEvents(this);
    renderStances(this);
    if (this.review) renderCompare(this);
    else renderSuggestions(this);
    renderItems(this);
    renderHistory(this);
    renderGuideContext(this);
    this.renderBar();
    if (fid) {
      const again = this.el.app.querySelector(`[data-fid="${CSS.escape(fid)}"]`);
      if (again) {
        if (value !== null && again.type !== "checkbox" && again.type !== "radio" && again.tagName === "INPUT") again.value = value;
        again.focus({ preventScroll: true });
        if (caret !== null && again.setSelectionRange) again.setSelectionRange(caret, caret);
        if (again.id === "wb-event-filter") again.dispatchEvent(new Event("input"));
      }
    }
  }

  renderBar() {
    const { store, saver } = this;
    const status = store.layer.status;
    const labels = { not_started: "Not started", in_progress: "In progress", done: "Done", adjudicated: "Adjudicated" };
    this.el.status.textContent = labels[status] || status;
    this.el.status.className = `wb-status wb-status-${status}`;
    this.el.version.textContent = String(store.layer.version);
    const closed = store.isClosed();
    this.el.done.textContent = closed ? "Reopen" : this.review ? "Mark adjudicated" : "Mark done";
    this.el.undo.disabled = saver.undoStack.length === 0;
    this.el.app.classList.toggle("wb-layer-done", closed);
    if (this.review) renderReviewBar(this);
    this.renderProgress();

    const parts = [];
    const unsavedCount = saver.unsaved.length;
    let level = this.saveState.level;
    if (!saver.busy && unsavedCount === 0) {
      parts.push(h("span", { class: "wb-ok" }, "✓ All changes saved"), ` · version ${store.layer.version}`);
      level = "ok";
    } else if (saver.busy) parts.push(h("span", { class: "wb-busy" }, this.saveState.text || "Saving…"));
    else parts.push(h("span", { class: "wb-error" }, `${unsavedCount} change(s) not saved — see above`));
    if (this.message && Date.now() - this.message.at < 8000)
      parts.push(" · ", h("span", { class: `wb-msg wb-msg-${this.message.level}`, id: "wb-message" }, this.message.text));
    if (this.offerNext && store.layer.status === "done") parts.push(this.nextOffer());
    replace(this.el.save, parts);
    this.el.save.dataset.level = level;
    this.renderAlert();
  }

  // "article 3 of 12 in your queue, 7 done" (when the page data has it) and the undecided suggestions.
  renderProgress() {
    const { progress, el, store } = this;
    if (el.progress) {
      const p = progress;
      const ok = p && Number.isInteger(p.position) && Number.isInteger(p.queue_size);
      el.progress.hidden = !ok;
      el.progress.textContent = ok ? `article ${p.position} of ${p.queue_size} in your queue, ${p.done ?? 0} done` : "";
    }
    if (el.undecided && !this.review) {
      const n = ["mention", "event", "stance"].reduce((sum, kind) => sum + store.suggestions(kind).length, 0);
      el.undecided.textContent = store.machine ? `${progress ? "· " : ""}${n} suggestion(s) undecided` : "";
    }
  }

  // The layer's incomplete events, each a link that selects it in the text.
  problemsBlock() {
    const problems = this.problems;
    if (!problems) return null;
    const live = problems.events.filter((x) => this.store.get("event", x.event.id));
    const now = new Map(incompleteEvents(this.store).map((x) => [x.event.id, x.missing]));
    const rows = live.filter((x) => now.has(this.store.resolve("event", x.event.id)));
    if (!rows.length) {
      this.problems = null;
      return null;
    }
    return h(
      "div",
      { id: "wb-incomplete" },
      h("p", {}, h("strong", {}, problems.title), ` ${rows.length} event(s) lack a required role. Fill it, or mark it “not stated” if the text leaves it implicit:`),
      h(
        "ul",
        {},
        rows.map(({ event }) =>
          h(
            "li",
            {},
            h(
              "a",
              {
                href: "#",
                class: "wb-incomplete-link",
                onclick: (e) => {
                  e.preventDefault();
                  this.activateKey(`t:${this.store.resolve("event", event.id)}`);
                  this.showActive({ scroll: true });
                  this.reveal(this.el.events);
                },
              },
              `${event.event_type} ${quote(event.trigger_text, 40)}`,
            ),
            ` — needs ${now.get(this.store.resolve("event", event.id)).join(", ")}`,
          ),
        ),
      ),
    );
  }

  renderAlert() {
    const { saver, store } = this;
    const el = this.el.alert;
    const problems = this.problemsBlock();
    if (!saver.unsaved.length) {
      el.hidden = !problems;
      replace(el, problems);
      return;
    }
    el.hidden = false;
    const rows = saver.unsaved.map((change) =>
      h(
        "li",
        {},
        h("strong", {}, change.label),
        change.error && !change.error.isConflict ? [" — ", h("span", { class: "wb-error-detail" }, change.error.message)] : " — not saved yet",
        saver.conflict
          ? null
          : [
              " ",
              h("button", { type: "button", class: "button wb-small", onclick: () => saver.retry(change) }, "Retry"),
              " ",
              h("button", { type: "button", class: "button wb-small", onclick: () => saver.discard(change) }, "Discard"),
            ],
      ),
    );
    if (saver.conflict) {
      replace(
        el,
        h(
          "p",
          { id: "wb-conflict" },
          h("strong", {}, this.review ? "Someone else changed this gold layer" : "Someone else changed this layer"),
          ` (you had version ${saver.conflict.expected}, it is now at ${saver.conflict.current ?? "a newer one"}). `,
          "Nothing below was saved; it stays on screen until you choose:",
        ),
        h("ul", {}, rows),
        h(
          "div",
          { class: "wb-buttons" },
          h("button", { type: "button", class: "button default", id: "wb-reload-keep", onclick: () => this.reload(true) }, "Reload and apply my changes again"),
          h("button", { type: "button", class: "button", id: "wb-reload-drop", onclick: () => this.reload(false) }, "Reload and drop my changes"),
        ),
      );
    } else {
      replace(el, problems, h("p", {}, h("strong", {}, "Not saved:")), h("ul", {}, rows));
    }
    void store;
  }

  async reload(keep) {
    try {
      const dropped = await this.saver.reload(keep);
      if (dropped.length)
        this.flash(`Reloaded. Not applied again (the layer has moved on): ${dropped.join("; ")}.`, "warning");
      else this.flash(keep ? "Reloaded; your changes were applied again." : "Reloaded; your changes were dropped.", "info");
    } catch (err) {
      this.flash(`Could not reload: ${err.message}`, "error");
    }
  }

  // Highlight the active item (and the selected event's arguments) without redrawing the text.
  showActive({ scroll = false } = {}) {
    const { store, ui, text } = this;
    const keys = [];
    const args = new Map();
    let arcFrom = null;
    const arcs = [];
    const a = ui.active;
    if (a) {
      if (a.type === "m") keys.push(`m:${store.resolve("mention", a.id)}`);
      else if (a.type === "s") keys.push(`s:${a.id}`);
      else if (a.type === "t") {
        const ev = store.get("event", a.id);
        if (ev) {
          arcFrom = `t:${ev.id}`;
          keys.push(arcFrom);
          for (const arg of ev.arguments) {
            const key = `m:${resolveMention(store, arg.mention)}`;
            args.set(key, args.has(key) ? `${args.get(key)}, ${arg.role}` : arg.role);
            arcs.push({ key, label: arg.role });
          }
        }
      } else if (a.type === "st") {
        const ev = store.machine?.events.get(a.id);
        if (ev) {
          arcFrom = `st:${ev.id}`;
          keys.push(arcFrom);
          for (const arg of ev.arguments) {
            const m = store.machineMention(arg.mention);
            if (!m) continue;
            const own = store.mentionAt(m.start, m.end);
            const key = own ? `m:${own.id}` : `s:${m.id}`;
            args.set(key, arg.role);
            arcs.push({ key, label: arg.role });
          }
        }
      } else if (a.type === "c") {
        const g = findGroup(store, a.kind, a.key);
        const key = g && candidateKey(store, a.kind, a.key);
        if (key) keys.push(key);
        if (g && a.kind === "event" && key) {
          arcFrom = key;
          for (const arg of argumentKeys(store, g)) {
            args.set(arg.key, args.has(arg.key) ? `${args.get(arg.key)}, ${arg.label}` : arg.label);
            arcs.push(arg);
          }
        }
      } else if (a.type === "stance") {
        const s = store.get("stance", a.id);
        if (s) {
          const holder = s.holder === null || s.holder === undefined ? null : `m:${resolveMention(store, s.holder)}`;
          const target = s.target === null || s.target === undefined ? null : `m:${resolveMention(store, s.target)}`;
          if (holder) args.set(holder, "holder");
          if (target) args.set(target, `target (${s.label})`);
          if (holder && target) {
            arcFrom = holder;
            arcs.push({ key: target, label: s.label });
          }
        }
      }
    }
    text.mark(keys, "wb-active");
    text.mark([...args.keys()], "wb-arg");
    text.setRoles(args);
    if (arcFrom && arcs.length) text.drawArcs(arcFrom, arcs);
    else text.clearArcs();
    if (scroll && keys.length) {
      const el = (text.els.get(keys[0]) || [])[0];
      if (el) {
        const r = el.getBoundingClientRect();
        if (r.top < 80 || r.bottom > window.innerHeight - 40) el.scrollIntoView({ block: "center" });
      }
    }
  }

  // --- Selection --------------------------------------------------------------------------------

  select(span, { show = true, scroll = true, follow = true } = {}) {
    if (!span) {
      this.ui.sel = null;
      if (show) this.text.showSelection(null);
    } else {
      this.ui.sel = { s: span.s, e: span.e };
      const first = this.text.tokenAfter(span.s);
      const last = Math.max(first, this.text.tokenBefore(span.e));
      this.ui.anchor = span.first ?? first;
      this.ui.focus = span.last ?? last;
      if (show) this.text.showSelection(span.s, span.e, scroll);
      if (follow && !this.ui.armed && !this.ui.pick) {
        // A selection that is exactly a mention (or a suggestion) selects that item.
        this.ui.active = this.itemAt(span);
      }
    }
    this.renderPanels();
    this.showActive();
  }

  // The item a selection is exactly: a mention, else a suggestion, else (review) a candidate.
  itemAt(span) {
    const own = this.store.mentionAt(span.s, span.e);
    if (own) return { type: "m", id: own.id };
    const suggestion = this.store.suggestions("mention").find((m) => m.start === span.s && m.end === span.e);
    if (suggestion) return { type: "s", id: suggestion.id };
    return this.review ? candidateAt(this.store, span.s, span.e) : null;
  }

  selectTokens(anchor, focus) {
    const n = this.text.tokenCount();
    if (!n) return;
    anchor = Math.max(0, Math.min(n - 1, anchor));
    focus = Math.max(0, Math.min(n - 1, focus));
    const first = Math.min(anchor, focus);
    const last = Math.max(anchor, focus);
    this.ui.anchor = anchor;
    this.ui.focus = focus;
    const span = { s: this.text.tokenStart(first), e: this.text.tokenEnd(last) };
    this.ui.sel = span;
    this.text.showSelection(span.s, span.e, true);
    if (!this.ui.armed && !this.ui.pick) this.ui.active = this.itemAt(span);
    this.renderPanels();
    this.showActive();
  }

  moveKeyboard(key, extend) {
    const n = this.text.tokenCount();
    const { ui } = this;
    if (ui.focus === null) {
      this.selectTokens(0, 0);
      return;
    }
    let focus = ui.focus;
    if (key === "ArrowRight") focus = extend ? ui.focus + 1 : Math.max(ui.anchor, ui.focus) + 1;
    else if (key === "ArrowLeft") focus = extend ? ui.focus - 1 : Math.min(ui.anchor, ui.focus) - 1;
    else {
      const rect = this.text.rectOf(this.text.tokenStart(ui.focus));
      const line = parseFloat(getComputedStyle(this.el.text).lineHeight) || rect.height * 1.6;
      const y = key === "ArrowUp" ? rect.top - line * 0.75 : rect.bottom + line * 0.75;
      if (y < 0 || y > window.innerHeight) window.scrollBy(0, key === "ArrowUp" ? -line * 3 : line * 3);
      const y2 = key === "ArrowUp" ? this.text.rectOf(this.text.tokenStart(ui.focus)).top - line * 0.75 : this.text.rectOf(this.text.tokenStart(ui.focus)).bottom + line * 0.75;
      const cp = this.text.cpAtPoint(rect.left + 2, y2);
      focus = cp === null ? ui.focus + (key === "ArrowUp" ? -10 : 10) : Math.min(n - 1, this.text.tokenAfter(cp));
      if (focus === ui.focus) focus += key === "ArrowUp" ? -10 : 10;
    }
    focus = Math.max(0, Math.min(n - 1, focus));
    this.selectTokens(extend ? ui.anchor : focus, focus);
  }

  // --- Activating items ---------------------------------------------------------------------------

  activateKey(key) {
    const [type, raw] = key.split(":");
    const id = Number(raw);
    const { store, ui } = this;
    if (type === "c" || type === "ct") {
      const found = groupOfKey(store, key);
      if (!found) return;
      const { kind, group: g } = found;
      if (kind === "mention" && (ui.armed || ui.pick)) {
        // Pick the candidate into gold and use the mention it becomes.
        const ref = { s: g.start, e: g.end, label: g.label, text: g.text };
        if (ui.armed && !this.roleAllows(ref)) return;
        this.run(goldPick(store, kind, g));
        return ui.armed ? this.fill(ref) : this.pickMention(ref);
      }
      ui.armed = null;
      return this.activateGroup(kind, g, { reveal: true });
    }
    if (type === "m") {
      if (ui.armed) return this.fill(id);
      if (ui.pick) return this.pickMention(id);
      const m = store.get("mention", id);
      if (!m) return;
      ui.active = { type: "m", id: m.id };
      this.select({ s: m.start, e: m.end }, { follow: false, scroll: false });
      return;
    }
    if (type === "s") {
      const m = store.machineMention(id);
      if (!m) return;
      if (ui.armed || ui.pick) {
        // Accept the suggestion and use the mention it becomes.
        const ref = { s: m.start, e: m.end, label: m.label, text: m.text };
        if (ui.armed && !this.roleAllows(ref)) return;
        this.run(suggestionsDecide(store, "accept", { items: [{ kind: "mention", id }] }, `accept ${m.label} ${quote(m.text)}`));
        return ui.armed ? this.fill(ref) : this.pickMention(ref);
      }
      ui.active = { type: "s", id };
      this.select({ s: m.start, e: m.end }, { follow: false, scroll: false });
      return;
    }
    if (type === "t") {
      const ev = store.get("event", id);
      if (!ev) return;
      if (!(ui.active && ui.active.type === "t" && store.resolve("event", ui.active.id) === ev.id)) ui.armed = null;
      ui.active = { type: "t", id: ev.id };
      this.select({ s: ev.trigger_start, e: ev.trigger_end }, { follow: false, scroll: false });
      return;
    }
    if (type === "st") {
      const ev = store.machine?.events.get(id);
      if (!ev) return;
      ui.armed = null;
      ui.active = { type: "st", id };
      this.select({ s: ev.trigger_start, e: ev.trigger_end }, { follow: false, scroll: false });
    }
  }

  // Review: select a group of the comparison — its gold item if it has one, else the candidate.
  activateGroup(kind, g, { reveal = false } = {}) {
    const { ui } = this;
    const inGold = g.gold !== null && g.gold !== undefined;
    ui.revealRow = reveal;
    if (kind === "stance") {
      if (inGold) return this.activateStance(g.gold);
      ui.active = { type: "c", kind, key: g.key };
      const span = g.evidence_start === null || g.evidence_start === undefined ? null : { s: g.evidence_start, e: g.evidence_end };
      return this.select(span, { follow: false });
    }
    if (inGold) ui.active = { type: kind === "event" ? "t" : "m", id: g.gold };
    else ui.active = { type: "c", kind, key: g.key };
    const span = kind === "event" ? { s: g.trigger_start, e: g.trigger_end } : { s: g.start, e: g.end };
    this.select(span, { follow: false, scroll: !reveal });
  }

  pickGroup(kind, g) {
    const change = this.run(goldPick(this.store, kind, g));
    if (change && this.ui.active && this.ui.active.type === "c" && this.ui.active.key === g.key) this.ui.active = null;
    this.renderPanels();
    this.showActive();
  }

  merge(strategy) {
    this.run(goldMerge(this.store, strategy));
  }

  // Review: ] / [ step through the disputed groups not settled in gold yet.
  nextDisputed(direction) {
    const { store, ui } = this;
    const list = ["mention", "event"]
      .flatMap((kind) =>
        groupsOf(store, kind)
          .filter((g) => g.disagreements.length && (g.gold === null || g.gold === undefined))
          .map((g) => ({ kind, g, at: kind === "event" ? g.trigger_start : g.start })),
      )
      .sort((a, b) => a.at - b.at);
    if (!list.length) {
      this.flash("No disputed item left outside gold.", "info");
      return;
    }
    const at = ui.sel ? ui.sel.s : -1;
    const target =
      direction > 0
        ? list.find((x) => x.at > at) || list[0]
        : [...list].reverse().find((x) => x.at < at) || list[list.length - 1];
    this.activateGroup(target.kind, target.g, { reveal: true });
    this.showActive({ scroll: true });
  }

  activateStance(id) {
    const s = this.store.get("stance", id);
    if (!s) return;
    this.ui.armed = null;
    this.ui.active = { type: "stance", id: s.id };
    if (s.evidence_start !== null && s.evidence_start !== undefined) this.select({ s: s.evidence_start, e: s.evidence_end }, { follow: false });
    else this.select(null, { follow: false });
  }

  clear() {
    const { ui } = this;
    this.dropHint();
    if (ui.picker) ui.picker = null;
    else if (ui.pick) ui.pick = null;
    else if (ui.stanceDraft) ui.stanceDraft = null;
    else if (ui.armed) ui.armed = null;
    else {
      ui.active = null;
      ui.sel = null;
      this.text.showSelection(null);
    }
    this.renderPanels();
    this.showActive();
    this.el.text.focus({ preventScroll: true });
  }

  // --- Mentions -----------------------------------------------------------------------------------

  label(code) {
    const { store, ui } = this;
    const sel = ui.sel;
    if (ui.armed && sel) {
      const existing = store.mentionAt(sel.s, sel.e, code);
      if (existing) return this.fill(existing.id);
      const change = this.run(mentionCreate(store, { label: code, start: sel.s, end: sel.e }));
      if (change) this.fill(change.tmp);
      return;
    }
    if (sel) {
      const same = store.mentionAt(sel.s, sel.e);
      if (same) {
        if (same.label === code) this.flash(`${quote(same.text)} is already ${code}.`, "info");
        else this.run(mentionUpdate(store, same.id, { label: code }));
        ui.active = { type: "m", id: same.id };
        return;
      }
      const suggestion = store.suggestions("mention").find((m) => m.start === sel.s && m.end === sel.e && m.label === code);
      if (suggestion) return this.decide("accept", suggestion);
      const change = this.run(mentionCreate(store, { label: code, start: sel.s, end: sel.e }));
      if (change) ui.active = { type: "m", id: change.tmp };
      this.renderPanels();
      this.showActive();
      return;
    }
    const active = this.activeMention();
    if (active) {
      if (active.label !== code) this.run(mentionUpdate(store, active.id, { label: code }));
      return;
    }
    this.flash("Select a word or a span first (mouse, or ← → with Shift), then press a label key.", "warning");
  }

  decide(decision, suggestion) {
    const change = this.run(
      suggestionsDecide(this.store, decision, { items: [{ kind: "mention", id: suggestion.id }] }, `${decision} ${suggestion.label} ${quote(suggestion.text)}`),
    );
    if (change) {
      this.ui.active = null;
      this.nextSuggestion(1, suggestion.start);
    }
  }

  nextSuggestion(direction, from = null) {
    const list = this.store.suggestions("mention").sort((a, b) => a.start - b.start || a.end - b.end);
    if (!list.length) {
      this.flash("No suggestions left.", "info");
      this.select(null);
      return;
    }
    const at = from ?? (this.ui.sel ? this.ui.sel.s : -1);
    let target;
    if (direction > 0) target = list.find((m) => m.start > at || (from !== null && m.start >= at)) || list[0];
    else target = [...list].reverse().find((m) => m.start < at) || list[list.length - 1];
    this.ui.active = { type: "s", id: target.id };
    this.select({ s: target.start, e: target.end }, { follow: false });
    this.showActive({ scroll: true });
  }

  // --- Events ---------------------------------------------------------------------------------------

  openPicker() {
    const { ui, store } = this;
    let span = ui.sel;
    if (!span && ui.active && ui.active.type === "m") {
      const m = store.get("mention", ui.active.id);
      if (m) span = { s: m.start, e: m.end };
    }
    if (!span) {
      this.flash("Select the trigger word first (the word that says what happened), then Shift+E.", "warning");
      return;
    }
    if (store.isClosed()) {
      this.flash(store.closedMessage(), "warning");
      return;
    }
    ui.picker = { s: span.s, e: span.e };
    ui.stanceDraft = null;
    this.renderPanels();
    const input = document.getElementById("wb-event-filter");
    if (input) {
      input.focus({ preventScroll: true });
      this.reveal(this.el.events);
    }
  }

  closePicker() {
    this.ui.picker = null;
    this.renderPanels();
    this.el.text.focus({ preventScroll: true });
  }

  createEvent(code) {
    const { store, ui } = this;
    const span = ui.picker;
    if (!span) return;
    const type = store.eventTypes.get(code);
    const change = this.run(
      eventCreate(store, {
        event_type: code,
        trigger_start: span.s,
        trigger_end: span.e,
        realis: store.schema.realis[0],
        mode: "",
        contexts: [],
      }),
    );
    ui.picker = null;
    if (change) {
      ui.active = { type: "t", id: change.tmp };
      ui.armed = type.roles.length ? { event: change.tmp, role: type.roles[0].name } : null;
      ui.sel = null;
      this.text.showSelection(null);
    }
    this.renderPanels();
    this.showActive();
    this.el.text.focus({ preventScroll: true });
  }

  arm(eventId, role) {
    this.ui.armed = role ? { event: eventId, role } : null;
    this.ui.active = { type: "t", id: eventId };
    this.renderPanels();
    this.showActive();
    this.el.text.focus({ preventScroll: true });
  }

  armNext() {
    const { store, ui } = this;
    if (!ui.active || ui.active.type !== "t") {
      this.flash("Select an event first (click its trigger or its card).", "warning");
      return;
    }
    const ev = store.get("event", ui.active.id);
    const type = ev && store.eventTypes.get(ev.event_type);
    if (!type || !type.roles.length) return;
    const names = type.roles.map((r) => r.name);
    const current = ui.armed ? names.indexOf(ui.armed.role) : -1;
    this.arm(ev.id, names[(current + 1) % names.length]);
  }

  mentionOf(ref) {
    return typeof ref === "number" ? this.store.get("mention", ref) : this.store.mentionAt(ref.s, ref.e, ref.label) || { ...ref, id: null };
  }

  roleAllows(ref) {
    const { store, ui } = this;
    const ev = store.get("event", ui.armed.event);
    const role = ev && store.eventTypes.get(ev.event_type)?.roles.find((r) => r.name === ui.armed.role);
    const m = this.mentionOf(ref);
    if (!ev || !role || !m) return false;
    if (!role.entity_types.includes(m.label)) {
      this.flash(`The role “${role.name}” of ${ev.event_type} takes ${role.entity_types.join(", ")} — ${quote(m.text)} is ${m.label}.`, "error");
      return false;
    }
    return true;
  }

  fill(mentionId) {
    const { store, ui } = this;
    const ev = store.get("event", ui.armed.event);
    if (!ev) {
      ui.armed = null;
      return;
    }
    const type = store.eventTypes.get(ev.event_type);
    const role = type.roles.find((r) => r.name === ui.armed.role);
    const m = this.mentionOf(mentionId);
    if (!m || !role || !this.roleAllows(mentionId)) return;
    const resolved = resolveMention(store, mentionId);
    if (resolved !== -1 && ev.arguments.some((a) => a.role === role.name && resolveMention(store, a.mention) === resolved)) {
      this.flash(`${quote(m.text)} already fills ${role.name}.`, "info");
      return;
    }
    const count = ev.arguments.filter((a) => a.role === role.name).length;
    let args = [...ev.arguments, { role: role.name, mention: mentionId }];
    let note = "";
    if (role.max !== null && role.max !== undefined && count >= role.max) {
      // A slot that takes one: the new mention replaces the old one.
      args = [...ev.arguments.filter((a) => a.role !== role.name), { role: role.name, mention: mentionId }];
      note = " (replaced)";
    }
    const patch = { arguments: args };
    // A role given an argument is stated after all.
    if ((ev.not_stated || []).includes(role.name)) patch.not_stated = ev.not_stated.filter((r) => r !== role.name);
    this.dropHint();
    this.run(eventUpdate(store, ev.id, patch, `${role.name} of ${ev.event_type} = ${quote(m.text)}${note}`));
    // Arm the next role, so actor → recipient → … is one click each.
    const names = type.roles.map((r) => r.name);
    ui.armed = { event: ev.id, role: names[(names.indexOf(role.name) + 1) % names.length] };
    ui.sel = null;
    this.text.showSelection(null);
    this.renderPanels();
    this.showActive();
  }

  // --- Stance ---------------------------------------------------------------------------------------

  openStance() {
    const { ui } = this;
    if (this.store.isClosed()) {
      this.flash(this.store.closedMessage(), "warning");
      return;
    }
    ui.picker = null;
    ui.armed = null;
    ui.stanceDraft = { evidence: ui.sel ? { ...ui.sel } : null, holder: null, target: null, label: null, scope: "sentence", error: null };
    ui.pick = "target";
    this.flash("Click the stance's target mention (or pick it in the form).", "info", { hint: true });
    this.renderPanels();
    this.reveal(this.el.stances);
  }

  closeStance() {
    this.dropHint();
    this.ui.stanceDraft = null;
    this.ui.pick = null;
    this.renderPanels();
    this.el.text.focus({ preventScroll: true });
  }

  setPick(field) {
    this.ui.pick = field;
    this.renderPanels();
    this.el.text.focus({ preventScroll: true });
  }

  pickMention(mentionId) {
    const { ui, store } = this;
    const draft = ui.stanceDraft;
    const m = this.mentionOf(mentionId);
    if (!draft || !m) {
      ui.pick = null;
      return;
    }
    draft[ui.pick] = m.id === null || m.id === undefined ? mentionId : m.id;
    const picked = ui.pick;
    ui.pick = null;
    this.flash(`${picked === "holder" ? "Holder" : "Target"}: ${quote(m.text)}. Choose ${store.stanceLabels.join(" / ")} and save.`, "info", {
      hint: true,
    });
    this.renderPanels();
    const radio = this.el.stances.querySelector('input[name="wb-stance-label"]:checked') || this.el.stances.querySelector('input[name="wb-stance-label"]');
    if (radio) radio.focus({ preventScroll: true });
  }

  saveStance() {
    const { ui, store } = this;
    const draft = ui.stanceDraft;
    if (!draft) return;
    if (draft.target === null || draft.target === undefined) draft.error = "Choose the target: click a mention, or pick it in the list.";
    else if (!draft.label) draft.error = `Choose the stance: ${store.stanceLabels.join(", ")}.`;
    else if (draft.holder !== null && resolveMention(store, draft.holder) === resolveMention(store, draft.target))
      draft.error = "Holder and target are the same mention.";
    else draft.error = null;
    if (draft.error) {
      this.renderPanels();
      return;
    }
    const change = this.run(stanceCreate(store, draftToFields(this)));
    if (change) {
      this.dropHint();
      ui.stanceDraft = null;
      ui.pick = null;
      ui.active = { type: "stance", id: change.tmp };
    }
    this.renderPanels();
    this.showActive();
    this.el.text.focus({ preventScroll: true });
  }

  // --- Commands -------------------------------------------------------------------------------------

  enter() {
    const { ui, store } = this;
    const a = ui.active;
    if (ui.armed && ui.sel) {
      const m = store.mentionAt(ui.sel.s, ui.sel.e) || [...store.mentions.values()].find((x) => x.start >= ui.sel.s && x.end <= ui.sel.e);
      if (m) this.fill(m.id);
      else this.flash("No mention there: press a label key to create one in this role.", "warning");
      return;
    }
    if (ui.pick && ui.sel) {
      const m = store.mentionAt(ui.sel.s, ui.sel.e) || [...store.mentions.values()].find((x) => x.start >= ui.sel.s && x.end <= ui.sel.e);
      if (m) this.pickMention(m.id);
      return;
    }
    if (ui.stanceDraft) return this.saveStance();
    if (a && a.type === "c") {
      const g = findGroup(store, a.kind, a.key);
      if (g) this.pickGroup(a.kind, g);
    } else if (a && a.type === "s") {
      const s = store.machineMention(a.id);
      if (s && store.isPending("mention", s.id)) this.decide("accept", s);
    } else if (a && a.type === "st" && store.isPending("event", a.id)) {
      this.acceptEvent(a.id);
    }
  }

  remove() {
    const { ui, store } = this;
    const a = ui.active;
    if (!a) {
      this.flash("Nothing selected to delete.", "info");
      return;
    }
    if (a.type === "c") {
      this.flash("That is an annotator's version, not gold: there is nothing to delete. Leave it out of gold, or pick it.", "info");
      return;
    }
    if (a.type === "m") this.run(mentionDelete(store, a.id));
    else if (a.type === "s") {
      const s = store.machineMention(a.id);
      if (s) return this.decide("reject", s);
    } else if (a.type === "t") this.run(eventDelete(store, a.id));
    else if (a.type === "st") this.run(suggestionsDecide(store, "reject", { items: [{ kind: "event", id: a.id }] }, "reject the suggested event"));
    else if (a.type === "stance") this.run(stanceDelete(store, a.id));
    ui.active = null;
    ui.armed = null;
    this.select(null);
  }

  // After Mark done: the next article of the queue, and the setting to go there at once.
  nextOffer() {
    const url = this.store.urls.next;
    return h(
      "span",
      { id: "wb-next-offer" },
      " · Done. ",
      url ? h("a", { href: url, id: "wb-next-offer-link", class: "button wb-small default" }, "Next article (Shift+N)") : "That was the last article of your queue.",
      " ",
      h(
        "label",
        { class: "wb-muted" },
        h("input", {
          type: "checkbox",
          id: "wb-after-done-next",
          checked: setting(AFTER_DONE) === "next",
          onchange: (e) => saveSetting(AFTER_DONE, e.target.checked ? "next" : "stay"),
        }),
        " always open the next article after Mark done",
      ),
    );
  }

  // What closing the layer would leave behind: undecided suggestions (annotate), disputed items
  // not settled in gold (review).
  leftBehind() {
    const { store } = this;
    if (this.review) {
      const n = ["mention", "event", "stance"]
        .flatMap((kind) => groupsOf(store, kind))
        .filter((g) => g.disagreements.length && (g.gold === null || g.gold === undefined)).length;
      return n ? `${n} disputed item(s) are not settled in gold.` : null;
    }
    const counts = ["mention", "event", "stance"].map((kind) => store.suggestions(kind).length);
    const n = counts.reduce((a, b) => a + b, 0);
    return n ? `${n} suggestion(s) are still undecided (${counts[0]} mention(s), ${counts[1]} event(s), ${counts[2]} stance(s)).` : null;
  }

  // Marking done / adjudicated: incomplete events are listed first (the server would refuse), what
  // is left undecided is asked about.
  toggleDone() {
    const store = this.store;
    if (store.isClosed()) {
      this.offerNext = false;
      this.run(statusSet(store, "in_progress"));
      return;
    }
    const incomplete = incompleteEvents(store);
    if (incomplete.length) {
      this.problems = { title: this.review ? "Can't mark the gold layer adjudicated:" : "Can't mark done:", events: incomplete };
      this.renderBar();
      return;
    }
    this.problems = null;
    const left = this.leftBehind();
    const verb = this.review ? "Mark adjudicated" : "Mark done";
    if (left) this.confirm(`${left} ${verb} anyway?`, `${verb} anyway`, () => this.close());
    else this.close();
  }

  close() {
    const { store } = this;
    const change = statusSet(store, store.closedStatus);
    if (!this.review)
      change.after = () => {
        if (store.layer.status !== "done") return;
        this.offerNext = true;
        // Once the save queue has wound down (leaving mid-save would ask "leave the page?").
        if (setting(AFTER_DONE) === "next" && store.urls.next) setTimeout(() => this.go("next"), 0);
        this.renderBar();
      };
    this.run(change);
  }

  // A question before a bigger step, answered by keyboard (Enter confirms, Esc cancels).
  confirm(text, okLabel, action) {
    const dialog = this.el.confirm;
    const close = () => {
      dialog.close();
      this.el.text.focus({ preventScroll: true });
    };
    replace(
      dialog,
      h("p", { id: "wb-confirm-text" }, text),
      h(
        "div",
        { class: "wb-buttons" },
        h(
          "button",
          {
            type: "button",
            class: "button default",
            id: "wb-confirm-ok",
            onclick: () => {
              close();
              action();
            },
          },
          okLabel,
        ),
        h("button", { type: "button", class: "button", id: "wb-confirm-cancel", onclick: close }, "Cancel (Esc)"),
      ),
    );
    dialog.showModal();
    dialog.querySelector("#wb-confirm-ok").focus();
  }

  acceptAll() {
    const { store } = this;
    const count = store.suggestions("mention").length + store.suggestions("event").length + store.suggestions("stance").length;
    const incomplete = store.suggestions("event").filter((e) => missingRoles(store, e).length).length;
    this.confirm(
      `Accept all ${count} suggestion(s)?${incomplete ? ` ${incomplete} of the events are incomplete (a required role empty): fill each, or mark the role not stated, before the layer can be done.` : ""}`,
      `Accept all ${count}`,
      () => this.run(suggestionsDecide(store, "accept", { all: true }, "accept all suggestions")),
    );
  }

  // Accept a suggested event; once it is in the layer, select it and arm the first missing role.
  acceptEvent(id) {
    const { store, ui } = this;
    const suggestion = store.machine?.events.get(id);
    if (!suggestion || !store.isPending("event", id)) return;
    const missing = missingRoles(store, suggestion);
    const change = suggestionsDecide(store, "accept", { items: [{ kind: "event", id }] }, `accept event ${suggestion.event_type}`);
    change.after = () => {
      const made = (change.decisions || []).find((d) => d.item_kind === "event" && d.result_id);
      if (!made || !store.get("event", made.result_id)) return;
      ui.active = { type: "t", id: made.result_id };
      ui.armed = missing.length ? { event: made.result_id, role: missing[0] } : null;
      if (missing.length) this.flash(`Accepted ${suggestion.event_type}: it has no ${missing.join(", ")} — click the mention, or Shift+X if the text does not state it.`, "info", { hint: true });
      this.renderPanels();
      this.showActive();
    };
    if (ui.active && ui.active.type === "st" && ui.active.id === id) ui.active = null;
    this.run(change);
  }

  // Mark (or unmark) a role of an event "not stated in the text".
  toggleNotStated(eventId, role) {
    const { store, ui } = this;
    const ev = store.get("event", eventId);
    if (!ev) return;
    const current = ev.not_stated || [];
    const on = !current.includes(role);
    if (on && ev.arguments.some((a) => a.role === role)) {
      this.flash(`${role} has an argument: remove it first.`, "warning");
      return;
    }
    const next = on ? [...current, role] : current.filter((r) => r !== role);
    this.run(eventUpdate(store, ev.id, { not_stated: next }, `${role} of ${ev.event_type} ${on ? "not stated in the text" : "stated again"}`));
    if (on && ui.armed && store.resolve("event", ui.armed.event) === ev.id && ui.armed.role === role) {
      const still = missingRoles(store, store.get("event", ev.id));
      ui.armed = still.length ? { event: ev.id, role: still[0] } : null;
    }
    this.dropHint();
    this.renderPanels();
    this.showActive();
  }

  // Shift+letter commands (the keyboard help lists each: tests/browser check it stays so).
  commands() {
    return {
      E: () => this.openPicker(),
      R: () => this.armNext(),
      S: () => this.openStance(),
      D: () => this.toggleDone(),
      N: () => this.go("next"),
      P: () => this.go("previous"),
      G: () => window.open(this.store.urls.guidelines, "_blank", "noopener"),
      X: () => this.notStatedKey(),
      H: () => this.holderKey(),
      A: () => this.actorSearchKey(),
    };
  }

  // 1…9: arm the event's role of that place in the schema.
  armIndex(i) {
    const ev = this.store.get("event", this.ui.active.id);
    const type = ev && this.store.eventTypes.get(ev.event_type);
    if (!type || i >= type.roles.length) {
      this.flash(`${ev ? ev.event_type : "This event"} has ${type ? type.roles.length : 0} role(s).`, "info");
      return;
    }
    this.arm(ev.id, type.roles[i].name);
  }

  // Shift+H in a new stance: the next click (or Enter on a selected mention) picks the holder.
  holderKey() {
    if (!this.ui.stanceDraft) {
      this.flash("Start a stance first (select the evidence, Shift+S), then Shift+H picks its holder.", "warning");
      return;
    }
    this.setPick("holder");
    this.flash("Click the stance's holder mention.", "info", { hint: true });
  }

  // Shift+A with a mention selected: to the actor search.
  actorSearchKey() {
    const input = document.getElementById("wb-actor-search");
    if (!input) {
      this.flash("Select a mention first: Shift+A then searches the actor registry for it.", "warning");
      return;
    }
    this.reveal(this.el.inspector);
    input.focus();
  }

  notStatedKey() {
    const { ui } = this;
    if (!ui.armed) {
      this.flash("Arm a role first (Shift+R, or 1…5 with an event selected), then Shift+X.", "warning");
      return;
    }
    this.toggleNotStated(ui.armed.event, ui.armed.role);
  }

  go(which) {
    const url = this.store.urls[which];
    if (!url) {
      this.flash(which === "next" ? "This is the last article of your queue." : "This is the first article of your queue.", "info");
      return;
    }
    if (this.saver.busy || this.saver.unsaved.length) {
      this.flash("Wait until every change is saved (or resolve the unsaved ones) before leaving.", "warning");
      return;
    }
    window.location.href = url;
  }

  // --- Events from the page -------------------------------------------------------------------------

  bind() {
    const { el } = this;
    // A press and release on the same spot is a click, even inside the open selection (the
    // evidence of a new stance stays selected while its target is clicked).
    el.text.addEventListener("mousedown", (event) => (this.down = { x: event.clientX, y: event.clientY }));
    el.text.addEventListener("mouseup", (event) => this.onMouseUp(event));
    el.text.addEventListener("click", (event) => this.onClick(event));
    document.addEventListener("keydown", (event) => this.onKey(event));
    el.undo.addEventListener("click", () => this.saver.undo());
    el.done.addEventListener("click", () => this.toggleDone());
    el.helpButton.addEventListener("click", () => el.help.showModal());
    for (const [link, which] of [
      [el.prev, "previous"],
      [el.next, "next"],
    ]) {
      if (!link) continue; // the review page has no previous / next
      const url = this.store.urls[which];
      if (url) link.href = url;
      else {
        link.classList.add("wb-disabled");
        link.setAttribute("aria-disabled", "true");
      }
    }
    window.addEventListener("beforeunload", (event) => {
      if (this.saver.busy || this.saver.unsaved.length) {
        event.preventDefault();
        event.returnValue = "";
      }
    });
    window.addEventListener("resize", () => this.showActive());
  }

  // A drag (or a double click selecting a word) made a selection; a click did not.
  dragged(event) {
    if (event.detail > 1) return true;
    const d = this.down;
    return !d || Math.abs(event.clientX - d.x) > 3 || Math.abs(event.clientY - d.y) > 3;
  }

  onMouseUp(event) {
    if (!this.dragged(event)) return; // a click: onClick handles it
    const start = performance.now();
    const raw = this.text.readSelection();
    if (!raw) return;
    const snapped = this.text.snap(raw.s, raw.e);
    if (!snapped) {
      this.select(null);
      return;
    }
    this.ui.anchor = snapped.first;
    this.ui.focus = snapped.last;
    this.select(snapped, { scroll: false });
    this.recordSelection(start, event);
  }

  onClick(event) {
    // A drag made a selection (handled on mouse up).
    if (this.dragged(event) && !window.getSelection().isCollapsed) return;
    const start = performance.now();
    const tag = event.target.closest(".wb-tag");
    let key = null;
    if (tag) key = tag.dataset.key;
    else {
      const seg = event.target.closest(".wb-seg");
      if (seg) key = this.pickKey(this.text.segKeys[Number(seg.dataset.i)], Number(seg.dataset.i));
    }
    if (key) {
      this.activateKey(key);
    } else {
      // A click on plain text selects the word under it.
      const cp = this.text.cpAtPoint(event.clientX, event.clientY);
      if (cp === null) return;
      const i = this.text.tokenAfter(cp);
      if (i >= this.text.tokenCount() || this.text.tokenStart(i) > cp) {
        this.select(null);
        return;
      }
      this.ui.active = null;
      this.selectTokens(i, i);
    }
    this.recordSelection(start, event);
  }

  pickKey(keys, index) {
    const { ui, store } = this;
    if (!keys || !keys.length) return null;
    if (ui.armed || ui.pick) {
      const mentions = keys.filter((k) => k.startsWith("m:"));
      if (ui.armed) {
        const ev = store.get("event", ui.armed.event);
        const role = ev && store.eventTypes.get(ev.event_type)?.roles.find((r) => r.name === ui.armed.role);
        const allowed = mentions.find((k) => role && role.entity_types.includes(store.get("mention", Number(k.slice(2)))?.label));
        return allowed || mentions[0] || keys[0];
      }
      return mentions[0] || keys[0];
    }
    // Clicking the same place again reaches the next annotation there (nested, overlapping).
    const current = ui.active ? this.activeKey() : null;
    const at = current ? keys.indexOf(current) : -1;
    const key = index === ui.lastSeg && at >= 0 ? keys[(at + 1) % keys.length] : keys[0];
    ui.lastSeg = index;
    return key;
  }

  activeKey() {
    const a = this.ui.active;
    if (!a) return null;
    if (a.type === "m") return `m:${this.store.resolve("mention", a.id)}`;
    if (a.type === "t") return `t:${this.store.resolve("event", a.id)}`;
    if (a.type === "c") return candidateKey(this.store, a.kind, a.key);
    return `${a.type}:${a.id}`;
  }

  recordSelection(start, event) {
    // Time from the input event to the next frame after the page has responded.
    requestAnimationFrame(() =>
      setTimeout(() => {
        const now = performance.now();
        timings.selections.push({ handler: now - start, sinceEvent: event ? now - event.timeStamp : null });
        timings.lastSelection = event ? now - event.timeStamp : now - start;
      }, 0),
    );
  }

  onKey(event) {
    if (event.defaultPrevented || this.el.help.open || this.el.confirm.open) return;
    const key = event.key;
    const target = event.target;
    const typing = target instanceof Element && target.closest("input, textarea, select, [contenteditable='true']");
    if (key === "Escape") {
      if (typing && !target.closest(".wb-app")) return;
      event.preventDefault();
      this.clear();
      return;
    }
    // A radio or a checkbox keeps its own keys (arrows, space), but Shift+letter commands and the
    // help reach the page: the stance form's radios hold the focus while its holder is picked.
    const toggle = target instanceof Element && target.matches("input[type=radio], input[type=checkbox]");
    if (toggle && !(event.shiftKey && /^[A-Z?]$/.test(key))) return;
    if (typing && !toggle) return;
    if ((event.ctrlKey || event.metaKey) && !event.altKey && key.toLowerCase() === "z") {
      event.preventDefault();
      this.saver.undo();
      return;
    }
    if ((event.ctrlKey || event.metaKey) && !event.altKey && key.toLowerCase() === "f") {
      event.preventDefault();
      this.find.open();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown"].includes(key)) {
      if (target instanceof Element && target.closest("button, a") && !target.closest("#wb-text")) return;
      event.preventDefault();
      this.moveKeyboard(key, event.shiftKey);
      return;
    }
    if (key === "Enter" || key === " ") {
      if (target instanceof Element && target.closest("button, a, summary")) return;
      if (key === " ") return;
      event.preventDefault();
      this.enter();
      return;
    }
    if (key === "Delete" || key === "Backspace") {
      event.preventDefault();
      this.remove();
      return;
    }
    if (key === "?") {
      event.preventDefault();
      this.el.help.showModal();
      return;
    }
    if (key === "]" || key === "[") {
      event.preventDefault();
      if (this.review) this.nextDisputed(key === "]" ? 1 : -1);
      else this.nextSuggestion(key === "]" ? 1 : -1);
      return;
    }
    if (event.shiftKey && /^[A-Z]$/.test(key)) {
      const commands = this.commands();
      if (commands[key]) {
        event.preventDefault();
        commands[key]();
      }
      return;
    }
    if (/^[1-9]$/.test(key) && !this.store.hotkeys.has(key) && this.ui.active && this.ui.active.type === "t") {
      event.preventDefault();
      this.armIndex(Number(key) - 1);
      return;
    }
    if (key === "/" && !this.store.hotkeys.has("/")) {
      event.preventDefault();
      this.find.open();
      return;
    }
    if (key === "h" && !this.store.hotkeys.has("h")) {
      event.preventDefault();
      toggleGuide(this);
      return;
    }
    if (!event.shiftKey && this.store.hotkeys.has(key)) {
      event.preventDefault();
      const start = performance.now();
      this.label(this.store.hotkeys.get(key));
      this.recordSelection(start, event);
    }
  }
}

// The review page of an article nobody has reviewed yet comes without its gold layer (a GET
// writes nothing): the page creates it with a POST (the API pre-fills it by the project's merge
// strategy), then loads it as the page holds it.
async function openGold(data) {
  const api = new Api(data.urls.api, data.csrf_token);
  await api.request("POST", data.urls.layers, { kind: "gold" });
  const state = await api.request("GET", data.urls.state);
  return { ...data, ...state };
}

async function start() {
  const t0 = performance.now();
  let data = JSON.parse(document.getElementById("wb-data").textContent);
  if (data.mode === "review" && !data.layer) {
    const save = document.getElementById("wb-save");
    save.textContent = "Opening the gold layer…";
    try {
      data = await openGold(data);
    } catch (err) {
      save.textContent = `Could not open the gold layer: ${err.message} Reload the page to try again.`;
      save.dataset.level = "error";
      return;
    }
  }
  const parsed = performance.now();
  const app = new App(data);
  renderPalette(app);
  app.renderText();
  const textDone = performance.now();
  app.renderPanels();
  renderGuide(app);
  app.el.text.focus({ preventScroll: true });
  const done = performance.now();
  Object.assign(timings, {
    parse: parsed - t0,
    textRender: textDone - parsed,
    panels: done - textDone,
    init: done - t0,
    sinceNavigation: done,
    mentions: app.store.mentions.size,
    suggestions: app.store.suggestions("mention").length,
    events: app.store.events.size,
    characters: app.text.length,
    segments: app.text.segKeys.length,
  });
  requestAnimationFrame(() =>
    setTimeout(() => {
      timings.firstPaint = performance.now();
      timings.ready = true;
      document.documentElement.dataset.workbenchReady = "1";
    }, 0),
  );
  window.workbench = app;
}

start();
