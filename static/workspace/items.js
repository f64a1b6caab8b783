// The layer's items as a filterable list: mentions, events or stances (and the suggestions still
// pending), by label or type, by covered text, incomplete events, by where they came from.
// A click (or Enter on a row) selects the item in the text.

import { resolveMention } from "./changes.js";
import { h, quote, replace } from "./dom.js";
import { missingRoles } from "./events.js";
import { collapsible } from "./sections.js";

const LIMIT = 60; // rows drawn at once: the filters narrow the rest down

function fromSuggestion(store, kind, item) {
  if (!store.machine) return false;
  if (kind === "mention")
    return [...store.machine.mentions.values()].some((m) => m.start === item.start && m.end === item.end && m.label === item.label);
  if (kind === "event")
    return [...store.machine.events.values()].some(
      (e) => e.event_type === item.event_type && e.trigger_start === item.trigger_start && e.trigger_end === item.trigger_end,
    );
  return false;
}

function mentionText(store, id) {
  if (id === null || id === undefined) return null;
  const m = store.mentions.get(resolveMention(store, id));
  return m ? m.text : null;
}

// [{ key, at, label, text, incomplete, source, activate }] for the kind, before filtering.
function rowsOf(app, kind) {
  const { store } = app;
  const rows = [];
  if (kind === "mention") {
    for (const m of store.mentions.values())
      rows.push({ at: m.start, label: m.label, text: m.text, incomplete: false, source: fromSuggestion(store, kind, m) ? "accepted" : "hand", activate: () => app.activateKey(`m:${m.id}`) });
    for (const m of store.suggestions("mention"))
      rows.push({ at: m.start, label: m.label, text: m.text, incomplete: false, source: "suggested", activate: () => app.activateKey(`s:${m.id}`) });
  } else if (kind === "event") {
    for (const e of store.events.values()) {
      const missing = missingRoles(store, e);
      rows.push({
        at: e.trigger_start,
        label: e.event_type,
        text: e.trigger_text,
        extra: missing.length ? `needs ${missing.join(", ")}` : "",
        incomplete: missing.length > 0,
        source: fromSuggestion(store, kind, e) ? "accepted" : "hand",
        activate: () => app.activateKey(`t:${e.id}`),
      });
    }
    for (const e of store.suggestions("event")) {
      const missing = missingRoles(store, e);
      rows.push({
        at: e.trigger_start,
        label: e.event_type,
        text: e.trigger_text,
        extra: missing.length ? `incomplete: no ${missing.join(", ")}` : "",
        incomplete: missing.length > 0,
        source: "suggested",
        activate: () => app.activateKey(`st:${e.id}`),
      });
    }
  } else {
    for (const s of store.stances.values()) {
      const holder = mentionText(store, s.holder) || "Author / outlet";
      const target = mentionText(store, s.target) || s.target_actor_name || "…";
      rows.push({
        at: s.evidence_start ?? -1,
        label: s.label,
        text: `${holder} → ${target}${s.evidence_text ? ` · ${s.evidence_text}` : ""}`,
        incomplete: false,
        source: "hand",
        activate: () => app.activateStance(s.id),
      });
    }
  }
  return rows.sort((a, b) => a.at - b.at);
}

function labelsOf(store, kind) {
  if (kind === "mention") return store.schema.entity_types.map((t) => t.code);
  if (kind === "event") return store.schema.event_types.map((t) => t.code);
  return store.stanceLabels;
}

function filtered(app) {
  const f = app.ui.items;
  const q = f.text.trim().toLowerCase();
  return rowsOf(app, f.kind).filter(
    (r) =>
      (!f.label || r.label === f.label) &&
      (!q || r.text.toLowerCase().includes(q)) &&
      (!f.incomplete || r.incomplete) &&
      (!f.source || r.source === f.source),
  );
}

function drawList(app, list) {
  const rows = filtered(app);
  replace(
    list,
    rows.slice(0, LIMIT).map((r) =>
      h(
        "li",
        { class: `wb-item wb-item-${r.source}` },
        h(
          "button",
          { type: "button", class: "wb-link wb-item-link", onclick: () => r.activate() },
          h("strong", {}, r.label),
          " ",
          quote(r.text, 50),
          r.source === "suggested" ? h("span", { class: "wb-muted" }, " suggested") : null,
          r.extra ? h("span", { class: "wb-warn" }, ` ${r.extra}`) : null,
        ),
      ),
    ),
    rows.length > LIMIT ? h("li", { class: "wb-muted" }, `… ${rows.length - LIMIT} more: narrow the filter.`) : null,
    rows.length ? null : h("li", { class: "wb-muted" }, "Nothing matches."),
  );
  list.dataset.count = String(rows.length);
}

export function renderItems(app) {
  const { store, ui } = app;
  const f = ui.items;
  const list = h("ol", { class: "wb-item-list", id: "wb-item-list" });
  const redraw = () => drawList(app, list);
  const kindSelect = h(
    "select",
    {
      id: "wb-items-kind",
      "aria-label": "Items of kind",
      dataset: { fid: "items-kind" },
      onchange: (e) => {
        f.kind = e.target.value;
        f.label = "";
        app.renderPanels();
      },
    },
    ["mention", "event", "stance"].map((k) => h("option", { value: k, selected: f.kind === k }, `${k}s`)),
  );
  const labelSelect = h(
    "select",
    {
      id: "wb-items-label",
      "aria-label": f.kind === "event" ? "Event type" : "Label",
      dataset: { fid: "items-label" },
      onchange: (e) => {
        f.label = e.target.value;
        redraw();
      },
    },
    h("option", { value: "", selected: !f.label }, f.kind === "event" ? "any type" : "any label"),
    labelsOf(store, f.kind).map((code) => h("option", { value: code, selected: f.label === code }, code)),
  );
  const textInput = h("input", {
    type: "search",
    id: "wb-items-text",
    placeholder: "covered text…",
    "aria-label": "Filter by covered text",
    value: f.text,
    dataset: { fid: "items-text" },
    oninput: (e) => {
      f.text = e.target.value;
      redraw();
    },
  });
  const sourceSelect = h(
    "select",
    {
      id: "wb-items-source",
      "aria-label": "Where from",
      dataset: { fid: "items-source" },
      onchange: (e) => {
        f.source = e.target.value;
        redraw();
      },
    },
    [
      ["", "any source"],
      ["suggested", "suggested (undecided)"],
      ["accepted", "accepted suggestions"],
      ["hand", "made by hand"],
    ].map(([v, text]) => h("option", { value: v, selected: f.source === v }, text)),
  );
  const incomplete =
    f.kind === "event"
      ? h(
          "label",
          { class: "wb-muted" },
          h("input", {
            type: "checkbox",
            id: "wb-items-incomplete",
            checked: f.incomplete,
            dataset: { fid: "items-incomplete" },
            onchange: (e) => {
              f.incomplete = e.target.checked;
              redraw();
            },
          }),
          " incomplete only",
        )
      : null;
  const section = collapsible(
    "items",
    "Items",
    [h("div", { class: "wb-item-filters" }, kindSelect, " ", labelSelect, " ", sourceSelect, " ", textInput, " ", incomplete), list],
    { open: false, id: "wb-items-section" },
  );
  // Drawn only while open: a folded list costs nothing on each selection.
  if (section.open) redraw();
  section.addEventListener("toggle", () => section.open && redraw());
  replace(app.el.items, section);
}
