// The selected item: a mention (label, actor link, delete) or a suggestion (accept / reject).

import { mentionDelete, mentionUpdate, suggestionsDecide } from "./changes.js";
import { h, quote, replace } from "./dom.js";
import { provenanceLine } from "./review.js";

let searchTimer = null;

export function renderInspector(app) {
  const { store, ui } = app;
  const el = app.el.inspector;
  const active = ui.active;
  if (!active || !["m", "s"].includes(active.type)) {
    const hint =
      store.mode === "review"
        ? [
            "Solid spans are gold: click one to change its label, link it or delete it. Dashed spans are the annotators' (orange: disputed): click one to see who gave it, ",
            h("kbd", {}, "Enter"),
            " picks it into gold, ",
            h("kbd", {}, "]"),
            " goes to the next disputed one.",
          ]
        : [
            "Click a mention to change its label, link it to an actor or delete it. Dashed spans are suggestions: ",
            h("kbd", {}, "Enter"),
            " accepts, ",
            h("kbd", {}, "Delete"),
            " rejects, ",
            h("kbd", {}, "]"),
            " goes to the next one.",
          ];
    replace(el, h("h2", {}, "Selected"), h("p", { class: "wb-muted" }, hint));
    return;
  }
  if (active.type === "s") {
    const s = store.machineMention(active.id);
    if (!s) return replace(el, h("h2", {}, "Selected"));
    if (!store.isPending("mention", s.id)) {
      const how = store.decided.has(`mention:${s.id}`) ? "Decided" : "Covered by a mention";
      return replace(el, h("h2", {}, "Suggestion"), h("p", {}, quote(s.text), " ", h("span", { class: "wb-muted" }, `${how}.`)));
    }
    const same = store.suggestions("mention").filter((x) => x.label === s.label).length;
    replace(
      el,
      h("h2", {}, "Suggestion"),
      h(
        "p",
        {},
        h("span", { class: "wb-chip wb-chip-s", style: { "--c": store.colour(s.label) } }, s.label),
        " ",
        quote(s.text),
        " ",
        h("span", { class: "wb-score" }, s.score === null ? "" : `score ${s.score.toFixed(2)}`),
      ),
      h("p", { class: "wb-muted" }, `From ${store.machine.model_version}${s.actor_name ? ` · actor ${s.actor_name}` : ""}`),
      h(
        "div",
        { class: "wb-buttons" },
        h("button", { type: "button", class: "button default", id: "wb-accept", onclick: () => app.decide("accept", s) }, "Accept (Enter)"),
        h("button", { type: "button", class: "button", id: "wb-reject", onclick: () => app.decide("reject", s) }, "Reject (Delete)"),
      ),
      same > 1
        ? h(
            "div",
            { class: "wb-buttons" },
            h(
              "button",
              {
                type: "button",
                class: "button",
                id: "wb-accept-label",
                onclick: () =>
                  app.run(suggestionsDecide(store, "accept", { kind: "mention", label: s.label }, `accept all ${s.label} suggestions`)),
              },
              `Accept all ${s.label} (${same})`,
            ),
          )
        : null,
    );
    return;
  }
  const m = store.get("mention", active.id);
  if (!m) return replace(el, h("h2", {}, "Selected"));
  const roles = [];
  for (const event of store.events.values())
    for (const arg of event.arguments)
      if (store.resolve("mention", arg.mention) === m.id) roles.push(`${arg.role} of ${event.event_type} ${quote(event.trigger_text, 30)}`);
  const labelSelect = h(
    "select",
    {
      id: "wb-mention-label",
      dataset: { fid: "mention-label" },
      onchange: (event) => app.run(mentionUpdate(store, m.id, { label: event.target.value })),
    },
    store.schema.entity_types.map((t) => h("option", { value: t.code, selected: t.code === m.label }, `${t.code} — ${t.name}`)),
  );
  const results = h("div", { class: "wb-actor-results", id: "wb-actor-results" });
  const search = h("input", {
    type: "search",
    id: "wb-actor-search",
    placeholder: "Search the actor registry…",
    dataset: { fid: "actor-search" },
    oninput: (event) => {
      clearTimeout(searchTimer);
      const q = event.target.value.trim();
      searchTimer = setTimeout(() => searchActors(app, m, q, results), 150);
    },
  });
  replace(
    el,
    h("h2", {}, "Mention"),
    h(
      "p",
      {},
      h("span", { class: "wb-chip", style: { "--c": store.colour(m.label) } }, m.label),
      " ",
      quote(m.text),
      m.id < 0 ? h("span", { class: "wb-muted" }, " (saving…)") : null,
    ),
    provenanceLine(m),
    h("label", { class: "wb-field" }, "Label ", labelSelect),
    h(
      "div",
      { class: "wb-field" },
      "Actor: ",
      m.actor_name ? h("strong", { id: "wb-actor-name" }, m.actor_name) : h("span", { class: "wb-muted" }, "not linked"),
      m.actor
        ? h(
            "button",
            { type: "button", class: "button wb-small", onclick: () => app.run(mentionUpdate(store, m.id, { actor: null })) },
            "Unlink",
          )
        : null,
    ),
    h("div", { class: "wb-field" }, search, results),
    m.label === "DATE" ? dateField(app, m) : null,
    roles.length ? h("p", { class: "wb-muted" }, "Fills: ", roles.join("; ")) : null,
    h(
      "div",
      { class: "wb-buttons" },
      h(
        "button",
        { type: "button", class: "button wb-danger", id: "wb-delete-mention", onclick: () => app.run(mentionDelete(store, m.id)) },
        "Delete (Delete)",
      ),
    ),
  );
}

// A DATE mention's normalised value (resolved against the publication date), editable: an empty value
// goes back to the resolved one. Saved at once through POST mentions/<id>/date/.
function dateField(app, m) {
  const date = m.date || { value: "", granularity: "", flag: "", manual: false };
  const status = h(
    "span",
    { class: "wb-muted", id: "wb-date-status" },
    [date.granularity, date.flag ? `flag: ${date.flag}` : "", date.manual ? "set by hand" : ""].filter(Boolean).join(" · "),
  );
  const input = h("input", {
    type: "text",
    id: "wb-date-value",
    value: date.value,
    placeholder: "YYYY-MM-DD, YYYY-MM, YYYY or START/END",
    onchange: async (event) => {
      try {
        const saved = await app.api.request("POST", `mentions/${m.id}/date/`, { value: event.target.value.trim() });
        m.date = saved;
        event.target.value = saved.value;
        replace(status, [saved.granularity, saved.flag ? `flag: ${saved.flag}` : "", saved.manual ? "set by hand" : ""].filter(Boolean).join(" · "));
      } catch (err) {
        replace(status, h("span", { class: "wb-error" }, err.message));
      }
    },
  });
  return h("label", { class: "wb-field" }, "Date value ", input, " ", status);
}

async function searchActors(app, mention, q, results) {
  if (!q) {
    replace(results);
    return;
  }
  const url = `${app.store.urls.actors}?q=${encodeURIComponent(q)}&kind=${encodeURIComponent(mention.label)}`;
  try {
    const data = await app.api.request("GET", url);
    replace(
      results,
      data.results.length
        ? data.results.map((actor) =>
            h(
              "button",
              {
                type: "button",
                class: "wb-actor",
                onclick: () => app.run(mentionUpdate(app.store, mention.id, { actor: actor.id }, { actorName: actor.name })),
              },
              actor.name,
              h("span", { class: "wb-muted" }, ` ${[actor.kind, actor.country, actor.sector].filter(Boolean).join(" · ")}`),
            ),
          )
        : h("p", { class: "wb-muted" }, "No actor matches."),
    );
  } catch (err) {
    replace(results, h("p", { class: "wb-error" }, err.message));
  }
}
