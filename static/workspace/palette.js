// The label palette: one button per entity type, with its hotkey; the description on hover.

import { h, quote, replace } from "./dom.js";

export function renderPalette(app) {
  const { store } = app;
  const buttons = store.schema.entity_types.map((type) =>
    h(
      "button",
      {
        type: "button",
        class: "wb-label",
        style: { "--c": type.color || "#888888" },
        title: `${type.name}${type.hotkey ? ` (key ${type.hotkey})` : ""}: ${type.description || ""}`,
        dataset: { label: type.code },
        // Keep the text selection: the button must not take the focus on mouse down.
        onmousedown: (event) => event.preventDefault(),
        onclick: () => app.label(type.code),
        onmouseenter: () => app.hoverLabel(type.code),
        onmouseleave: () => app.hoverLabel(null),
      },
      h("kbd", {}, type.hotkey || "·"),
      h("span", { class: "wb-label-code" }, type.code),
      h("span", { class: "wb-label-name" }, type.name),
    ),
  );
  replace(
    app.el.palette,
    h("h2", {}, "Entity labels"),
    h("div", { id: "wb-selection", class: "wb-selection" }),
    h("div", { class: "wb-palette-list" }, buttons),
  );
  updatePalette(app);
}

export function updatePalette(app) {
  const line = app.el.palette.querySelector("#wb-selection");
  const { sel } = app.ui;
  if (sel) {
    replace(line, "Selection: ", h("q", {}, quote(app.spanText(sel.s, sel.e), 80).slice(1, -1)), " — press a label key");
  } else {
    replace(line, "Select text with the mouse, or with ← → (Shift extends), then press a label key.");
  }
  const active = app.activeMention();
  for (const button of app.el.palette.querySelectorAll(".wb-label")) {
    button.classList.toggle("wb-current", Boolean(active && active.label === button.dataset.label));
  }
}
