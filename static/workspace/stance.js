// Stance: holder (a mention, or the author / outlet) → target, FAVOR / AGAINST / NONE, with the
// evidence span. Shift+S starts one from the selection; a click on a mention picks target or holder.

import { resolveMention, stanceDelete, stanceUpdate, suggestionsDecide } from "./changes.js";
import { h, quote, replace } from "./dom.js";
import { collapsible } from "./sections.js";

function mentionName(store, id, machine = false) {
  if (id === null || id === undefined) return null;
  const m = machine ? store.machineMention(id) : store.mentions.get(resolveMention(store, id)) || (typeof id === "object" ? id : null);
  return m ? `${m.text} (${m.label})` : "…";
}

function mentionOptions(store, selected, emptyLabel) {
  const mentions = [...store.mentions.values()].sort((a, b) => a.start - b.start);
  return [
    h("option", { value: "", selected: selected === null || selected === undefined }, emptyLabel),
    mentions.map((m) =>
      h("option", { value: String(m.id), selected: selected !== null && selected !== undefined && resolveMention(store, selected) === m.id }, `${m.text} (${m.label})`),
    ),
  ];
}

export function renderStances(app) {
  const { store, ui } = app;
  const stances = [...store.stances.values()];
  const children = [
    h("h2", {}, `Stances (${stances.length})`),
    h("p", { class: "wb-muted" }, "Select the evidence and press ", h("kbd", {}, "Shift+S"), ", then click the target."),
  ];
  if (ui.stanceDraft) children.push(draftForm(app));
  else
    children.push(
      h(
        "button",
        { type: "button", class: "button", id: "wb-new-stance", onmousedown: (e) => e.preventDefault(), onclick: () => app.openStance() },
        "New stance",
      ),
    );
  const list = h("ol", { class: "wb-stance-list" });
  for (const stance of stances) list.append(stanceItem(app, stance));
  children.push(collapsible("stances", `Your stances (${stances.length})`, list, { id: "wb-stances-section" }));
  const suggested = store.suggestions("stance");
  if (suggested.length) {
    const sl = h("ol", { class: "wb-stance-list wb-suggested" });
    for (const s of suggested) sl.append(suggestedItem(app, s));
    children.push(collapsible("suggested-stances", `Suggested stances (${suggested.length})`, sl, { id: "wb-suggested-stances-section" }));
  }
  replace(app.el.stances, children);
}

function draftForm(app) {
  const { store, ui } = app;
  const draft = ui.stanceDraft;
  const pickButton = (field) =>
    h(
      "button",
      {
        type: "button",
        class: `button wb-small${ui.pick === field ? " wb-armed" : ""}`,
        id: `wb-pick-${field}`,
        onmousedown: (e) => e.preventDefault(),
        onclick: () => app.setPick(ui.pick === field ? null : field),
      },
      ui.pick === field ? "click a mention…" : "pick in text",
    );
  const labels = store.stanceLabels.map((code) =>
    h(
      "label",
      { class: "wb-radio" },
      h("input", {
        type: "radio",
        name: "wb-stance-label",
        value: code,
        checked: draft.label === code,
        dataset: { fid: `stance-label-${code}` },
        onchange: () => {
          draft.label = code;
        },
      }),
      ` ${code}`,
    ),
  );
  const form = h(
    "form",
    {
      class: "wb-stance-form",
      id: "wb-stance-form",
      onsubmit: (e) => {
        e.preventDefault();
        app.saveStance();
      },
      onkeydown: (e) => {
        if (e.key === "Enter" && e.target.tagName !== "BUTTON") {
          e.preventDefault();
          e.stopPropagation();
          app.saveStance();
        } else if (e.key === "Escape") {
          e.preventDefault();
          e.stopPropagation();
          app.closeStance();
        }
      },
    },
    h(
      "div",
      { class: "wb-field" },
      "Evidence: ",
      draft.evidence ? h("q", {}, app.spanText(draft.evidence.s, draft.evidence.e)) : h("span", { class: "wb-muted" }, "none (select text, then Shift+S)"),
    ),
    h(
      "label",
      { class: "wb-field" },
      "Holder ",
      h(
        "select",
        {
          id: "wb-stance-holder",
          dataset: { fid: "stance-holder" },
          onchange: (e) => {
            draft.holder = e.target.value ? Number(e.target.value) : null;
          },
        },
        mentionOptions(store, draft.holder, "Author / outlet"),
      ),
      " ",
      pickButton("holder"),
    ),
    h(
      "label",
      { class: "wb-field" },
      "Target ",
      h(
        "select",
        {
          id: "wb-stance-target",
          dataset: { fid: "stance-target" },
          onchange: (e) => {
            draft.target = e.target.value ? Number(e.target.value) : null;
          },
        },
        mentionOptions(store, draft.target, "— choose —"),
      ),
      " ",
      pickButton("target"),
    ),
    h("fieldset", { class: "wb-field wb-stance-labels" }, h("legend", {}, "Stance"), labels),
    h(
      "label",
      { class: "wb-field" },
      "Scope ",
      h(
        "select",
        { dataset: { fid: "stance-scope" }, onchange: (e) => (draft.scope = e.target.value) },
        ["sentence", "document"].map((s) => h("option", { value: s, selected: draft.scope === s }, s)),
      ),
    ),
    draft.error ? h("p", { class: "wb-error" }, draft.error) : null,
    h(
      "div",
      { class: "wb-buttons" },
      h("button", { type: "submit", class: "button default", id: "wb-save-stance" }, "Save stance (Enter)"),
      h("button", { type: "button", class: "button", onclick: () => app.closeStance() }, "Cancel (Esc)"),
    ),
  );
  return form;
}

function stanceItem(app, stance) {
  const { store, ui } = app;
  const active = ui.active && ui.active.type === "stance" && store.resolve("stance", ui.active.id) === stance.id;
  const unsaved = store.isUnsaved("stance", stance.id);
  const holder = stance.holder === null || stance.holder === undefined ? "Author / outlet" : mentionName(store, stance.holder);
  const target = stance.target !== null && stance.target !== undefined ? mentionName(store, stance.target) : stance.target_actor_name || "…";
  return h(
    "li",
    { class: `wb-stance${active ? " wb-current" : ""}${unsaved ? " wb-unsaved" : ""}` },
    h(
      "div",
      { class: "wb-event-head" },
      h("button", { type: "button", class: "wb-link", onclick: () => app.activateStance(stance.id) }, holder, " → ", target),
      " ",
      h(
        "select",
        {
          class: "wb-stance-label-select",
          "aria-label": "Stance label",
          dataset: { fid: `stance-${stance.id}-label` },
          onchange: (e) => app.run(stanceUpdate(store, stance.id, { label: e.target.value }, `set stance ${e.target.value}`)),
        },
        store.stanceLabels.map((code) => h("option", { value: code, selected: code === stance.label }, code)),
      ),
      unsaved ? h("span", { class: "wb-error" }, " not saved") : null,
      h(
        "button",
        { type: "button", class: "wb-x", title: "Delete the stance", "aria-label": "Delete stance", onclick: () => app.run(stanceDelete(store, stance.id)) },
        "×",
      ),
    ),
    stance.evidence_text ? h("div", { class: "wb-muted" }, "Evidence: ", quote(stance.evidence_text, 100)) : null,
  );
}

function suggestedItem(app, s) {
  const { store } = app;
  const holder = s.holder === null ? "Author / outlet" : mentionName(store, s.holder, true);
  const target = s.target !== null ? mentionName(store, s.target, true) : s.target_actor_name || "…";
  return h(
    "li",
    { class: "wb-stance wb-event-suggested" },
    h("div", {}, holder, " → ", h("strong", {}, s.label), " → ", target, s.score === null ? "" : ` · ${s.score.toFixed(2)}`),
    s.evidence_text ? h("div", { class: "wb-muted" }, quote(s.evidence_text, 100)) : null,
    h(
      "div",
      { class: "wb-buttons" },
      h(
        "button",
        { type: "button", class: "button wb-small", onclick: () => app.run(suggestionsDecide(store, "accept", { items: [{ kind: "stance", id: s.id }] }, `accept stance ${s.label}`)) },
        "Accept",
      ),
      h(
        "button",
        { type: "button", class: "button wb-small", onclick: () => app.run(suggestionsDecide(store, "reject", { items: [{ kind: "stance", id: s.id }] }, `reject stance ${s.label}`)) },
        "Reject",
      ),
    ),
  );
}

export function draftToFields(app) {
  const draft = app.ui.stanceDraft;
  const fields = {
    label: draft.label,
    holder: draft.holder,
    target: draft.target,
    target_actor: null,
    scope: draft.scope,
    evidence_start: null,
    evidence_end: null,
    evidence_text: "",
  };
  if (draft.evidence) {
    fields.evidence_start = draft.evidence.s;
    fields.evidence_end = draft.evidence.e;
    fields.evidence_text = app.spanText(draft.evidence.s, draft.evidence.e);
  }
  return fields;
}

