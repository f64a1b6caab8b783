// Events: pick a trigger (Shift+E), choose its type, fill its role slots by clicking mentions;
// mode, realis and contexts. The selected event's trigger and arguments are drawn in the text.

import { eventDelete, eventUpdate, resolveMention, suggestionsDecide } from "./changes.js";
import { h, quote, replace } from "./dom.js";
import { collapsible } from "./sections.js";

function cardinality(role) {
  return `${role.min || 0}..${role.max === null || role.max === undefined ? "n" : role.max}`;
}

export function roleCounts(event) {
  const counts = new Map();
  for (const arg of event.arguments) counts.set(arg.role, (counts.get(arg.role) || 0) + 1);
  return counts;
}

// Required roles (the schema's `min`) still short of arguments, less those the text does not state.
export function missingRoles(store, event) {
  const type = store.eventTypes.get(event.event_type);
  if (!type) return [];
  const counts = roleCounts(event);
  const notStated = new Set(event.not_stated || []);
  return type.roles.filter((r) => !notStated.has(r.name) && (counts.get(r.name) || 0) < (r.min || 0)).map((r) => r.name);
}

// The layer's events that can't be marked done / adjudicated yet: [{ event, missing }], in text order.
export function incompleteEvents(store) {
  return [...store.events.values()]
    .map((event) => ({ event, missing: missingRoles(store, event) }))
    .filter((x) => x.missing.length)
    .sort((a, b) => a.event.trigger_start - b.event.trigger_start);
}

// Suggested events, optionally only the incomplete ones (ui.onlyIncomplete).
export function suggestedEvents(app) {
  const all = app.store.suggestions("event").sort((a, b) => a.trigger_start - b.trigger_start);
  return app.ui.onlyIncomplete ? all.filter((e) => missingRoles(app.store, e).length) : all;
}

export function renderEvents(app) {
  const { store, ui } = app;
  const events = [...store.events.values()].sort((a, b) => a.trigger_start - b.trigger_start || a.id - b.id);
  const children = [
    h("h2", {}, `Events (${events.length})`),
    h("p", { class: "wb-muted" }, "Select a trigger word and press ", h("kbd", {}, "Shift+E"), ", or use the button."),
  ];
  if (ui.picker) children.push(picker(app));
  else
    children.push(
      h(
        "button",
        {
          type: "button",
          class: "button",
          id: "wb-new-event",
          onmousedown: (e) => e.preventDefault(),
          onclick: () => app.openPicker(),
        },
        "New event from selection",
      ),
    );
  const list = h("ol", { class: "wb-event-list" });
  for (const event of events) list.append(card(app, event));
  children.push(collapsible("events", `Your events (${events.length})`, list, { id: "wb-events-section" }));
  const all = store.suggestions("event");
  if (all.length) {
    const incomplete = all.filter((e) => missingRoles(store, e).length).length;
    const suggested = suggestedEvents(app);
    const sl = h("ol", { class: "wb-event-list wb-suggested", id: "wb-suggested-events" });
    for (const event of suggested) sl.append(suggestedCard(app, event));
    children.push(
      collapsible("suggested-events", `Suggested events (${all.length})`, [
      incomplete
        ? h(
            "label",
            { class: "wb-field wb-muted" },
            h("input", {
              type: "checkbox",
              id: "wb-only-incomplete",
              checked: !!ui.onlyIncomplete,
              onchange: (e) => {
                ui.onlyIncomplete = e.target.checked;
                app.renderPanels();
              },
            }),
            ` only the ${incomplete} incomplete (a required role empty)`,
          )
        : null,
      sl,
      ], { id: "wb-suggested-events-section" }),
    );
  }
  replace(app.el.events, children);
}

function picker(app) {
  const { store, ui } = app;
  const types = [...store.eventTypes.values()];
  const list = h("ul", { class: "wb-picker-list", role: "listbox", id: "wb-event-types" });
  const input = h("input", {
    type: "text",
    id: "wb-event-filter",
    dataset: { fid: "event-filter" },
    placeholder: "Type to filter: AID, AGREE, CONSULT…",
    autocomplete: "off",
    "aria-controls": "wb-event-types",
  });
  let shown = [];
  let index = 0;
  const draw = () => {
    const q = input.value.trim().toUpperCase();
    shown = types.filter((t) => !q || t.code.startsWith(q)).concat(
      types.filter((t) => q && !t.code.startsWith(q) && (t.code.includes(q) || (t.description || "").toUpperCase().includes(q))),
    );
    index = Math.min(index, Math.max(0, shown.length - 1));
    replace(
      list,
      shown.map((t, i) =>
        h(
          "li",
          {
            class: `wb-picker-item${i === index ? " wb-current" : ""}`,
            role: "option",
            "aria-selected": String(i === index),
            title: t.description || "",
            dataset: { code: t.code },
            onmousedown: (e) => e.preventDefault(),
            onclick: () => app.createEvent(t.code),
          },
          h("strong", {}, t.code),
          " ",
          h("span", { class: "wb-muted" }, t.description || ""),
        ),
      ),
    );
  };
  input.addEventListener("input", () => {
    index = 0;
    draw();
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      index = (index + (e.key === "ArrowDown" ? 1 : -1) + shown.length) % Math.max(1, shown.length);
      draw();
      list.children[index]?.scrollIntoView({ block: "nearest" });
    } else if (e.key === "Enter") {
      e.preventDefault();
      e.stopPropagation();
      if (shown[index]) app.createEvent(shown[index].code);
    } else if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      app.closePicker();
    }
  });
  draw();
  return h(
    "div",
    { class: "wb-picker" },
    h("div", {}, "Trigger ", h("q", {}, app.spanText(ui.picker.s, ui.picker.e)), " — event type:"),
    input,
    list,
  );
}

function card(app, event) {
  const { store, ui } = app;
  const type = store.eventTypes.get(event.event_type);
  const active = ui.active && ui.active.type === "t" && store.resolve("event", ui.active.id) === event.id;
  const missing = missingRoles(store, event);
  const unsaved = store.isUnsaved("event", event.id);
  const head = h(
    "div",
    { class: "wb-event-head" },
    h(
      "button",
      { type: "button", class: "wb-link", onclick: () => app.activateKey(`t:${event.id}`) },
      h("strong", {}, event.event_type),
      " ",
      quote(event.trigger_text, 40),
    ),
    missing.length ? h("span", { class: "wb-warn wb-needs", title: "Required roles still empty" }, ` needs ${missing.join(", ")}`) : null,
    unsaved ? h("span", { class: "wb-error" }, " not saved") : null,
    h(
      "button",
      {
        type: "button",
        class: "wb-x",
        title: "Delete the event",
        "aria-label": `Delete event ${event.event_type}`,
        onclick: () => app.run(eventDelete(store, event.id)),
      },
      "×",
    ),
  );
  const summary = h(
    "div",
    { class: "wb-event-args" },
    event.arguments.map((arg) => {
      const m = store.get("mention", typeof arg.mention === "number" ? arg.mention : resolveMention(store, arg.mention));
      return h("span", { class: "wb-arg-chip" }, `${arg.role}: `, m ? quote(m.text, 30) : "…");
    }),
  );
  const li = h("li", { class: `wb-event${active ? " wb-current" : ""}${unsaved ? " wb-unsaved" : ""}`, dataset: { id: String(event.id) } }, head, summary);
  if (!active || !type) return li;

  // The selected event: its fields and role slots.
  const update = (patch, label) => app.run(eventUpdate(store, event.id, patch, label));
  const typeSelect = h(
    "select",
    {
      dataset: { fid: `event-type-${event.id}` },
      onchange: (e) => {
        const next = store.eventTypes.get(e.target.value);
        const roles = new Set(next.roles.map((r) => r.name));
        update(
          {
            event_type: next.code,
            mode: (next.modes || []).includes(event.mode) ? event.mode : "",
            arguments: event.arguments.filter((a) => roles.has(a.role)),
          },
          `change event type to ${next.code}`,
        );
      },
    },
    [...store.eventTypes.values()].map((t) => h("option", { value: t.code, selected: t.code === event.event_type, title: t.description || "" }, t.code)),
  );
  const modeSelect = h(
    "select",
    { dataset: { fid: `event-mode-${event.id}` }, id: "wb-event-mode", onchange: (e) => update({ mode: e.target.value }, `set mode ${e.target.value || "none"}`) },
    h("option", { value: "", selected: !event.mode }, "—"),
    (type.modes || []).map((mode) => h("option", { value: mode, selected: mode === event.mode }, mode)),
  );
  const realisSelect = h(
    "select",
    { dataset: { fid: `event-realis-${event.id}` }, id: "wb-event-realis", onchange: (e) => update({ realis: e.target.value }, `set realis ${e.target.value}`) },
    store.schema.realis.map((r) => h("option", { value: r, selected: r === event.realis }, r)),
  );
  const contexts = h(
    "div",
    { class: "wb-contexts" },
    (store.schema.contexts || []).map((c) =>
      h(
        "label",
        {},
        h("input", {
          type: "checkbox",
          value: c,
          checked: event.contexts.includes(c),
          dataset: { fid: `event-context-${event.id}-${c}` },
          onchange: (e) => {
            const next = e.target.checked ? [...event.contexts, c] : event.contexts.filter((x) => x !== c);
            update({ contexts: next }, `${e.target.checked ? "add" : "remove"} context ${c}`);
          },
        }),
        ` ${c}`,
      ),
    ),
  );
  const counts = roleCounts(event);
  const slots = h(
    "ul",
    { class: "wb-slots" },
    type.roles.map((role) => {
      const armed = ui.armed && store.resolve("event", ui.armed.event) === event.id && ui.armed.role === role.name;
      const filled = event.arguments.filter((a) => a.role === role.name);
      const notStated = (event.not_stated || []).includes(role.name);
      const short = !notStated && (counts.get(role.name) || 0) < (role.min || 0);
      return h(
        "li",
        { class: `wb-slot${armed ? " wb-armed" : ""}${short ? " wb-short" : ""}`, dataset: { role: role.name } },
        h(
          "button",
          {
            type: "button",
            class: "wb-slot-arm",
            title: `Takes ${role.entity_types.join(", ")}${role.description ? ` — ${role.description}` : ""}`,
            onmousedown: (e) => e.preventDefault(),
            onclick: () => app.arm(event.id, armed ? null : role.name),
          },
          h("strong", {}, role.name),
          ` ${cardinality(role)}`,
        ),
        " ",
        filled.length
          ? null
          : h(
              "button",
              {
                type: "button",
                class: `button wb-small wb-not-stated${notStated ? " wb-on" : ""}`,
                "aria-pressed": String(notStated),
                title: "The text does not state this role (Shift+X on the armed role)",
                onmousedown: (e) => e.preventDefault(),
                onclick: () => app.toggleNotStated(event.id, role.name),
              },
              notStated ? "not stated ✓" : "not stated",
            ),
        " ",
        h("span", { class: "wb-muted wb-slot-types" }, role.entity_types.join(" ")),
        " ",
        filled.map((arg) => {
          const m = store.get("mention", typeof arg.mention === "number" ? arg.mention : resolveMention(store, arg.mention));
          return h(
            "span",
            { class: "wb-arg-chip", style: { "--c": store.colour(m ? m.label : "") } },
            m ? quote(m.text, 30) : "…",
            h(
              "button",
              {
                type: "button",
                class: "wb-x",
                title: `Remove from ${role.name}`,
                "aria-label": `Remove ${m ? m.text : "argument"} from ${role.name}`,
                onclick: () =>
                  update({ arguments: event.arguments.filter((a) => a !== arg) }, `remove ${m ? quote(m.text) : "argument"} from ${role.name}`),
              },
              "×",
            ),
          );
        }),
        armed ? h("div", { class: "wb-armed-hint" }, "Click a mention (or select it and press Enter; a label key creates one). Esc stops.") : null,
      );
    }),
  );
  li.append(
    h(
      "div",
      { class: "wb-event-form" },
      h("label", { class: "wb-field" }, "Type ", typeSelect),
      h("label", { class: "wb-field" }, "Mode ", modeSelect),
      h("label", { class: "wb-field" }, "Realis ", realisSelect),
      contexts,
      h("div", { class: "wb-muted" }, "Roles (", h("kbd", {}, "Shift+R"), " arms the next):"),
      slots,
    ),
  );
  return li;
}

function suggestedCard(app, event) {
  const { store, ui } = app;
  const active = ui.active && ui.active.type === "st" && ui.active.id === event.id;
  const missing = missingRoles(store, event);
  return h(
    "li",
    { class: `wb-event wb-event-suggested${active ? " wb-current" : ""}${missing.length ? " wb-is-incomplete" : ""}`, dataset: { id: String(event.id) } },
    h(
      "div",
      { class: "wb-event-head" },
      h(
        "button",
        { type: "button", class: "wb-link", onclick: () => app.activateKey(`st:${event.id}`) },
        h("strong", {}, event.event_type),
        " ",
        quote(event.trigger_text, 40),
        event.score === null ? "" : ` · ${event.score.toFixed(2)}`,
      ),
      missing.length
        ? h("span", { class: "wb-badge wb-incomplete", title: `No ${missing.join(", ")}: accepting it arms that role` }, `incomplete: no ${missing.join(", ")}`)
        : null,
    ),
    h(
      "div",
      { class: "wb-event-args" },
      event.arguments.map((arg) => {
        const m = store.machineMention(arg.mention);
        return h("span", { class: "wb-arg-chip" }, `${arg.role}: `, m ? quote(m.text, 30) : "…");
      }),
    ),
    h(
      "div",
      { class: "wb-buttons" },
      h(
        "button",
        { type: "button", class: "button wb-small", onclick: () => app.acceptEvent(event.id) },
        "Accept",
      ),
      h(
        "button",
        { type: "button", class: "button wb-small", onclick: () => app.run(suggestionsDecide(store, "reject", { items: [{ kind: "event", id: event.id }] }, `reject event ${event.event_type}`)) },
        "Reject",
      ),
    ),
  );
}

