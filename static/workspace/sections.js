// Collapsible side-panel sections and the page settings kept in localStorage (per browser).

import { h } from "./dom.js";

export function setting(key, fallback = null) {
  try {
    return window.localStorage.getItem(key) ?? fallback;
  } catch {
    return fallback; // storage disabled: the defaults
  }
}

export function saveSetting(key, value) {
  try {
    window.localStorage.setItem(key, value);
  } catch {
    // storage disabled: the setting lasts this page only
  }
}

// A <details> section whose open / closed state is remembered ("workbench.section.<key>"), so a long
// list (214 suggested events) can be folded away and stays folded across articles.
export function collapsible(key, title, body, { open = true, id = null } = {}) {
  const stored = setting(`workbench.section.${key}`);
  const details = h(
    "details",
    {
      class: "wb-section",
      id,
      dataset: { section: key },
      open: stored === null ? open : stored === "open",
      ontoggle: (e) => saveSetting(`workbench.section.${key}`, e.currentTarget.open ? "open" : "closed"),
    },
    h("summary", { class: "wb-section-title" }, title),
    body,
  );
  return details;
}
