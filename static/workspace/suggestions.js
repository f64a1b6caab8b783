// Machine suggestions: counts by label, accept / reject all of a label, or everything.

import { suggestionsDecide } from "./changes.js";
import { h, replace } from "./dom.js";
import { collapsible } from "./sections.js";

export function renderSuggestions(app) {
  const { store } = app;
  const el = app.el.suggestions;
  if (!store.machine) {
    replace(el, h("h2", {}, "Suggestions"), h("p", { class: "wb-muted" }, "No machine suggestions for this article yet."));
    return;
  }
  const mentions = store.suggestions("mention");
  const events = store.suggestions("event");
  const stances = store.suggestions("stance");
  const byLabel = new Map();
  for (const m of mentions) byLabel.set(m.label, (byLabel.get(m.label) || 0) + 1);
  const decide = (decision, target, label) => () => app.run(suggestionsDecide(store, decision, target, label));
  const rows = [...byLabel.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([label, count]) =>
      h(
        "tr",
        { dataset: { label } },
        h("td", {}, h("span", { class: "wb-chip wb-chip-s", style: { "--c": store.colour(label) } }, label)),
        h("td", {}, String(count)),
        h(
          "td",
          {},
          h("button", { type: "button", class: "button wb-small", onclick: decide("accept", { kind: "mention", label }, `accept all ${label} suggestions`) }, "Accept all"),
          " ",
          h("button", { type: "button", class: "button wb-small", onclick: decide("reject", { kind: "mention", label }, `reject all ${label} suggestions`) }, "Reject all"),
        ),
      ),
    );
  const total = mentions.length + events.length + stances.length;
  replace(
    el,
    h("h2", {}, `Suggestions (${total})`),
    collapsible("suggestions", "By label", [
    h(
      "p",
      { class: "wb-muted" },
      `From ${store.machine.model_version}. Dashed in the text; `,
      h("kbd", {}, "]"),
      " / ",
      h("kbd", {}, "["),
      " steps through them, ",
      h("kbd", {}, "Enter"),
      " accepts, ",
      h("kbd", {}, "Delete"),
      " rejects.",
    ),
    rows.length ? h("table", { class: "wb-sugg-table" }, h("tbody", {}, rows)) : null,
    h(
      "p",
      { class: "wb-muted" },
      `${mentions.length} mention(s), ${events.length} event(s), ${stances.length} stance(s) undecided.`,
    ),
    total
      ? h(
          "div",
          { class: "wb-buttons" },
          h("button", { type: "button", class: "button", id: "wb-accept-all", onclick: () => app.acceptAll() }, "Accept all"),
          h("button", { type: "button", class: "button", id: "wb-reject-all", onclick: decide("reject", { all: true }, "reject all suggestions") }, "Reject all"),
        )
      : null,
    ], { id: "wb-suggestions-section" }),
  );
}
