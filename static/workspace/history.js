// The layer's last changes (GET layers/<id>/history/?limit=20), each with Undo while nothing newer
// conflicts (the server says which: `undoable`). Where the server keeps no history (404), the
// changes saved in this page session are shown instead, the newest undoable through the page's undo.

import { h, replace } from "./dom.js";
import { collapsible, setting } from "./sections.js";

const LIMIT = 20;

export function historyOpen() {
  return setting("workbench.section.history") === "open";
}

function when(at) {
  const d = new Date(at);
  return Number.isNaN(d.getTime()) ? "" : d.toLocaleString();
}

// What a change says, in a line: "created GPE “Niger”", "updated AID “sent”", "status → done".
function describe(entry) {
  const item = entry.after || entry.before || {};
  if (entry.item_kind === "layer") return `status → ${item.status ?? "?"}`;
  const what = item.label || item.event_type || entry.item_kind || "item";
  const quoted = item.text || item.trigger_text || item.evidence_text || "";
  const verb = { create: "added", update: "changed", delete: "removed" }[entry.action] || entry.action;
  return `${verb} ${what}${quoted ? ` “${quoted}”` : ""}${entry.undoes ? " (undo)" : ""}`;
}

// The server's rows (newest first) as the panel shows them: a change can be undone while it was not
// undone already and no newer change in the list touched the same item (or, for a status, the status).
function entriesOf(results) {
  const touched = new Set();
  return results.map((entry) => {
    const item = `${entry.item_kind}:${entry.item_kind === "layer" ? "status" : entry.item_id}`;
    const undoable = entry.undoable ?? (!entry.undone_by && !touched.has(item));
    touched.add(item);
    return { ...entry, at: entry.at || entry.created_at, summary: entry.summary || describe(entry), undoable };
  });
}

export async function loadHistory(app) {
  const state = app.history;
  if (state.server === false) return renderHistoryList(app); // the session's own list
  try {
    const data = await app.api.request("GET", `layers/${app.store.layer.id}/history/?limit=${LIMIT}`);
    state.server = true;
    state.entries = entriesOf(data.results || []);
    state.error = null;
  } catch (err) {
    if (err.status === 404) state.server = false;
    else state.error = err.message;
  }
  renderHistoryList(app);
}

async function undoEntry(app, entry) {
  const { store, saver } = app;
  if (saver.busy || saver.unsaved.length) {
    app.flash("Wait until every change is saved before undoing from the history.", "warning");
    return;
  }
  try {
    await app.api.request("POST", `layers/${store.layer.id}/history/${entry.id}/undo/`, { version: store.layer.version });
    const state = await app.api.request("GET", store.urls.state);
    saver.undoStack = []; // the page's own undo refers to the layer before this one
    store.load(state);
    store.emit({ text: true, reloaded: true });
    app.flash(`Undone: ${entry.summary}`, "info");
  } catch (err) {
    app.flash(`Could not undo “${entry.summary}”: ${err.message}`, "error");
  }
  loadHistory(app);
}

function serverRows(app) {
  return app.history.entries.map((entry) =>
    h(
      "li",
      { class: "wb-history-entry", dataset: { id: String(entry.id) } },
      h("span", { class: "wb-history-summary" }, entry.summary),
      h("span", { class: "wb-muted" }, ` · ${entry.user || "—"} · ${when(entry.at)} `),
      h(
        "button",
        {
          type: "button",
          class: "button wb-small wb-history-undo",
          disabled: !entry.undoable,
          title: entry.undoable ? "Undo this change" : "A newer change depends on it: it can't be undone alone",
          onclick: () => undoEntry(app, entry),
        },
        "Undo",
      ),
    ),
  );
}

function sessionRows(app) {
  const top = app.saver.undoStack[app.saver.undoStack.length - 1];
  return [...app.sessionLog].reverse().map((entry) =>
    h(
      "li",
      { class: "wb-history-entry" },
      h("span", { class: "wb-history-summary" }, entry.label),
      h("span", { class: "wb-muted" }, ` · ${when(entry.at)} `),
      h(
        "button",
        {
          type: "button",
          class: "button wb-small wb-history-undo",
          disabled: !(top && entry.change === top),
          title: "Only the newest change of this session can be undone here (Ctrl+Z)",
          onclick: () => app.saver.undo(),
        },
        "Undo",
      ),
    ),
  );
}

function renderHistoryList(app) {
  const list = document.getElementById("wb-history-list");
  if (!list) return;
  const state = app.history;
  const note = document.getElementById("wb-history-note");
  if (state.server === false) {
    replace(note, "The server keeps no history for this layer: the changes saved in this session.");
    replace(list, app.sessionLog.length ? sessionRows(app) : h("li", { class: "wb-muted" }, "No change yet."));
  } else if (state.error) {
    replace(note, h("span", { class: "wb-error" }, `Could not load the history: ${state.error}`));
  } else {
    replace(note, `The layer's last ${LIMIT} changes, newest first.`);
    replace(list, state.entries.length ? serverRows(app) : h("li", { class: "wb-muted" }, "No change yet."));
  }
}

export function renderHistory(app) {
  const el = app.el.history;
  if (!el) return;
  const section = collapsible(
    "history",
    "History",
    [h("p", { class: "wb-muted", id: "wb-history-note" }), h("ol", { class: "wb-history-list", id: "wb-history-list" })],
    { open: false, id: "wb-history-section" },
  );
  replace(el, section);
  if (section.open) renderHistoryList(app);
  // Loaded when opened (a re-render of an open section fires "toggle" too: no reload then).
  section.addEventListener("toggle", () => {
    if (section.open && !app.history.wasOpen) loadHistory(app);
    app.history.wasOpen = section.open;
  });
}
