// Guidelines beside the text (key h): the project's guidelines, rendered and sanitised by the
// server (the Guidelines page: Markdown with raw HTML escaped), and above them what applies to
// what is selected or hovered: the label, or the event type with its roles, modes, realis and contexts.

import { h, replace } from "./dom.js";
import { saveSetting, setting } from "./sections.js";

const OPEN = "workbench.guide";

// What each realis value means (schemas may name others: those show without a note).
const REALIS = {
  actual: "it happened or is happening",
  future: "announced or planned, not yet happened",
  hypothetical: "possible, conditional, demanded or feared",
  negated: "said not to have happened",
};

let fetched = null; // the guidelines' nodes, fetched once per page

async function guidelinesNodes(url) {
  if (!fetched)
    fetched = fetch(url, { credentials: "same-origin" })
      .then((r) => (r.ok ? r.text() : Promise.reject(new Error(`${r.status}`))))
      .then((html) => {
        // Parsed inert (no script runs in a DOMParser document), then only the guidelines' part
        // is taken over: the server rendered it from Markdown with raw HTML escaped.
        const doc = new DOMParser().parseFromString(html, "text/html");
        const part = doc.querySelector(".wb-guidelines-text");
        return part ? [...part.childNodes] : null;
      });
  return fetched;
}

export function guideOpen() {
  return setting(OPEN) === "open";
}

export function toggleGuide(app) {
  const open = !guideOpen();
  saveSetting(OPEN, open ? "open" : "closed");
  renderGuide(app);
  if (open) app.el.guide.scrollIntoView({ block: "nearest" });
}

function cardinality(role) {
  return `${role.min || 0}..${role.max === null || role.max === undefined ? "n" : role.max}`;
}

function entityHelp(type) {
  return h(
    "div",
    { class: "wb-guide-ctx", id: "wb-guide-label" },
    h("h3", {}, h("span", { class: "wb-chip", style: { "--c": type.color || "#888888" } }, type.code), ` ${type.name}`),
    h("p", {}, type.description || ""),
    type.hotkey ? h("p", { class: "wb-muted" }, "Key ", h("kbd", {}, type.hotkey)) : null,
  );
}

function eventHelp(store, type, event) {
  const notStated = new Set((event && event.not_stated) || []);
  return h(
    "div",
    { class: "wb-guide-ctx", id: "wb-guide-event" },
    h("h3", {}, type.code),
    h("p", {}, type.description || ""),
    h(
      "table",
      { class: "wb-guide-roles" },
      h("thead", {}, h("tr", {}, h("th", {}, "Role"), h("th", {}, "How many"), h("th", {}, "Takes"))),
      h(
        "tbody",
        {},
        type.roles.map((role, i) =>
          h(
            "tr",
            { dataset: { role: role.name } },
            h("td", {}, i < 5 ? h("kbd", {}, String(i + 1)) : null, " ", h("strong", {}, role.name), notStated.has(role.name) ? " (not stated)" : ""),
            h("td", {}, `${cardinality(role)}${role.min ? " — required" : ""}`),
            h("td", {}, role.entity_types.join(", ")),
          ),
        ),
      ),
    ),
    h(
      "p",
      { class: "wb-muted" },
      "A required role the text leaves implicit (“since the coup”): arm it and press ",
      h("kbd", {}, "Shift+X"),
      " — not stated in the text.",
    ),
    h("p", {}, h("strong", {}, "Modes: "), (type.modes || []).length ? type.modes.join(", ") : "none for this type"),
    h(
      "p",
      {},
      h("strong", {}, "Realis: "),
      store.schema.realis.map((r, i) => [i ? "; " : "", h("em", {}, r), REALIS[r] ? ` — ${REALIS[r]}` : ""]),
    ),
    h(
      "p",
      {},
      h("strong", {}, "Contexts: "),
      (store.schema.contexts || []).join(", ") || "—",
      " — the domains the event belongs to (any number).",
    ),
  );
}

// The help for what is hovered (a palette label) or selected (a mention, an event, a suggestion).
function context(app) {
  const { store, ui } = app;
  if (ui.hoverLabel && store.entityTypes.has(ui.hoverLabel)) return entityHelp(store.entityTypes.get(ui.hoverLabel));
  const a = ui.active;
  if (!a) return ui.picker ? h("p", { class: "wb-muted" }, "Choosing an event type: its description shows as you move through the list.") : null;
  if (a.type === "m" || a.type === "s") {
    const m = a.type === "m" ? store.get("mention", a.id) : store.machineMention(a.id);
    const type = m && store.entityTypes.get(m.label);
    return type ? entityHelp(type) : null;
  }
  if (a.type === "t" || a.type === "st") {
    const ev = a.type === "t" ? store.get("event", a.id) : store.machine?.events.get(a.id);
    const type = ev && store.eventTypes.get(ev.event_type);
    return type ? eventHelp(store, type, ev) : null;
  }
  if (a.type === "stance")
    return h(
      "div",
      { class: "wb-guide-ctx" },
      h("h3", {}, "Stance"),
      store.schema.stance_labels.map((s) => h("p", {}, h("strong", {}, s.code), ` — ${s.description || ""}`)),
    );
  return null;
}

export function renderGuide(app) {
  const el = app.el.guide;
  if (!el) return;
  const open = guideOpen();
  el.hidden = !open;
  app.el.app.classList.toggle("wb-guide-open", open);
  if (!open) return;
  const body = h("div", { class: "wb-guidelines-text", id: "wb-guide-text" }, h("p", { class: "wb-muted" }, "Loading the guidelines…"));
  replace(
    el,
    h(
      "div",
      { class: "wb-guide-head" },
      h("h2", {}, "Guidelines"),
      h("button", { type: "button", class: "wb-x", title: "Close (h)", "aria-label": "Close the guidelines", onclick: () => toggleGuide(app) }, "×"),
    ),
    h("div", { id: "wb-guide-context" }, context(app)),
    app.store.project.has_guidelines ? body : h("p", { class: "wb-muted" }, "This project has no written guidelines yet; the schema above is the reference."),
  );
  if (!app.store.project.has_guidelines) return;
  guidelinesNodes(app.store.urls.guidelines)
    .then((nodes) => replace(body, nodes ? nodes.map((n) => document.importNode(n, true)) : h("p", {}, "No guidelines.")))
    .catch((err) => replace(body, h("p", { class: "wb-error" }, `Could not load the guidelines: ${err.message}`)));
}

// Only the context part, on hover (cheap: the guidelines' text stays).
export function renderGuideContext(app) {
  const el = document.getElementById("wb-guide-context");
  if (el && guideOpen()) replace(el, context(app));
}
