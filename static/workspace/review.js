// The review page: the annotators' versions of every item — the Compare panel and the dashed
// candidates in the text — picked one by one into the gold layer, or merged by agreement.
// The groups come from the server (annotations/review.py): one group is one version of an item
// with the annotators who gave it, its agreement, why it is disputed, and its gold item if any.

import { itemsDelete } from "./changes.js";
import { h, quote, replace } from "./dom.js";

export const KINDS = ["mention", "event", "stance"];
const REASONS = {
  label: "label differs",
  boundary: "boundary differs",
  missing: "not everyone has it",
  type: "type differs",
  arguments: "arguments differ",
};
const STAGES = { unassigned: "Unassigned", assigned: "Assigned", annotated: "Annotated", adjudicated: "Adjudicated" };
const STATUSES = { not_started: "Not started", in_progress: "In progress", done: "Done", adjudicated: "Adjudicated" };

export function groupsOf(store, kind) {
  return store.review ? store.review.groups[`${kind}s`] : [];
}

export function findGroup(store, kind, key) {
  return groupsOf(store, kind).find((g) => g.key === key) || null;
}

// The text key of a candidate (only groups not in gold are drawn): "c:<i>" mentions, "ct:<i>" events.
export function candidateKey(store, kind, key) {
  if (kind === "stance") return null; // stances are not drawn in the text
  const i = groupsOf(store, kind).findIndex((g) => g.key === key);
  if (i < 0) return null;
  return `${kind === "event" ? "ct" : "c"}:${i}`;
}

export function groupOfKey(store, textKey) {
  const [type, raw] = textKey.split(":");
  const kind = type === "ct" ? "event" : "mention";
  const group = groupsOf(store, kind)[Number(raw)];
  return group ? { kind, group } : null;
}

function sameSpan(a, b) {
  if (!a || !b) return a === b;
  return a.start === b.start && a.end === b.end;
}

// A group still to show as a candidate: not in gold (nor added to gold on this page since the
// last reload of the comparison).
function pending(store, kind, g) {
  if (g.gold !== null && g.gold !== undefined) return false;
  if (kind === "mention") return !store.mentionAt(g.start, g.end, g.label);
  if (kind === "event")
    return ![...store.events.values()].some(
      (e) => e.trigger_start === g.trigger_start && e.trigger_end === g.trigger_end && e.event_type === g.event_type,
    );
  return true;
}

export function candidateAt(store, s, e) {
  const list = groupsOf(store, "mention");
  const i = list.findIndex((g) => g.start === s && g.end === e && pending(store, "mention", g));
  return i < 0 ? null : { type: "c", kind: "mention", key: list[i].key };
}

function who(g) {
  return `${g.annotators.join(", ")} (${g.support} of ${g.of})`;
}

function reasons(g) {
  return g.disagreements.map((r) => REASONS[r] || r).join(", ");
}

// --- In the text ------------------------------------------------------------------------------

export function candidateItems(store) {
  const items = [];
  groupsOf(store, "mention").forEach((g, i) => {
    if (!pending(store, "mention", g)) return;
    const disputed = g.disagreements.length > 0;
    items.push({
      key: `c:${i}`,
      type: "c",
      s: g.start,
      e: g.end,
      color: store.colour(g.label),
      disputed,
      tag: `${g.label} ${g.support}/${g.of}`,
      title: `${g.label} ${quote(g.text)} by ${who(g)}${disputed ? ` — ${reasons(g)}` : ""}. Enter picks it into gold.`,
    });
  });
  groupsOf(store, "event").forEach((g, i) => {
    if (!pending(store, "event", g)) return;
    const disputed = g.disagreements.length > 0;
    items.push({
      key: `ct:${i}`,
      type: "ct",
      s: g.trigger_start,
      e: g.trigger_end,
      color: "#777777",
      disputed,
      tag: `${g.event_type}? ${g.support}/${g.of}`,
      title: `Event ${g.event_type} by ${who(g)}${disputed ? ` — ${reasons(g)}` : ""}. Enter picks it into gold.`,
    });
  });
  return items;
}

// The text keys an active candidate event points at: its arguments, in gold or still candidates.
export function argumentKeys(store, g) {
  const mentions = groupsOf(store, "mention");
  return g.arguments
    .map((a) => {
      const own = store.mentionAt(a.start, a.end, a.label);
      if (own) return { key: `m:${own.id}`, label: a.role };
      const i = mentions.findIndex((m) => m.start === a.start && m.end === a.end && m.label === a.label);
      return i < 0 ? null : { key: `c:${i}`, label: a.role };
    })
    .filter(Boolean);
}

// --- Describing a group -----------------------------------------------------------------------

function mentionText(m) {
  return m ? `${quote(m.text, 30)} ${m.label}` : "the author";
}

export function describe(store, kind, g) {
  if (kind === "mention")
    return [h("span", { class: "wb-chip", style: { "--c": store.colour(g.label) } }, g.label), " ", quote(g.text, 40)];
  if (kind === "event")
    return [
      h("strong", {}, g.event_type),
      " ",
      quote(g.trigger_text, 24),
      g.mode ? ` (${g.mode})` : "",
      h(
        "div",
        { class: "wb-muted" },
        g.arguments.length ? g.arguments.map((a) => `${a.role}: ${quote(a.text, 24)}`).join("; ") : "no arguments",
      ),
    ];
  const target = g.target ? mentionText(g.target) : g.target_actor ? `actor ${g.target_actor.name}` : "?";
  return [
    h("strong", {}, g.label),
    " ",
    `${g.holder ? mentionText(g.holder) : "author"} → ${target}`,
    h("div", { class: "wb-muted" }, g.scope === "document" ? "document" : g.evidence_text ? quote(g.evidence_text, 40) : g.scope),
  ];
}

// What one annotator gave for the item a group describes: ✓ this version, another value, or —.
function mark(store, kind, g, username) {
  if (g.annotators.includes(username)) return { text: "✓", cls: "wb-mark-same", title: `${username} gave this version` };
  const theirs = groupsOf(store, kind).filter((o) => o !== g && o.annotators.includes(username));
  let other = null;
  if (kind === "mention") {
    other = theirs.find((o) => sameSpan(o, g));
    if (other) return { text: other.label, cls: "wb-mark-diff", title: `${username}: ${other.label}` };
    other = theirs.find((o) => o.label === g.label && o.start < g.end && g.start < o.end);
    if (other) return { text: quote(other.text, 18), cls: "wb-mark-diff", title: `${username}: ${other.label} ${quote(other.text)}` };
  } else if (kind === "event") {
    other = theirs.find((o) => o.trigger_start === g.trigger_start && o.trigger_end === g.trigger_end);
    if (other) {
      const text = other.event_type === g.event_type ? "other args" : other.event_type;
      return { text, cls: "wb-mark-diff", title: `${username}: ${other.event_type} with ${other.arguments.length} argument(s)` };
    }
  } else {
    other = theirs.find((o) => sameSpan(o.holder, g.holder) && sameSpan(o.target, g.target));
    if (other) return { text: other.label, cls: "wb-mark-diff", title: `${username}: ${other.label}` };
  }
  return { text: "—", cls: "wb-mark-none", title: `${username} has no such item` };
}

// --- The Compare panel --------------------------------------------------------------------------

function isCurrent(app, kind, g) {
  const a = app.ui.active;
  if (!a) return false;
  if (a.type === "c") return a.kind === kind && a.key === g.key;
  if (g.gold === null || g.gold === undefined) return false;
  const types = { mention: "m", event: "t", stance: "stance" };
  return a.type === types[kind] && app.store.resolve(kind, a.id) === g.gold;
}

function groupRow(app, kind, g, annotators) {
  const inGold = g.gold !== null && g.gold !== undefined;
  const disputed = g.disagreements.length > 0;
  const classes = ["wb-compare-row"];
  if (disputed) classes.push("wb-disputed");
  if (inGold) classes.push("wb-in-gold");
  if (isCurrent(app, kind, g)) classes.push("wb-current");
  const dataset = { kind, key: g.key, agreement: g.agreement };
  if (kind === "mention") Object.assign(dataset, { label: g.label, text: g.text });
  if (kind === "event") Object.assign(dataset, { label: g.event_type, text: g.trigger_text });
  if (kind === "stance") dataset.label = g.label;
  return h(
    "tr",
    { class: classes.join(" "), dataset, onclick: (event) => !event.target.closest("button") && app.activateGroup(kind, g) },
    h(
      "td",
      { class: "wb-compare-item" },
      describe(app.store, kind, g),
      disputed ? h("div", { class: "wb-reasons" }, g.disagreements.map((r) => h("span", { class: `wb-reason wb-reason-${r}`, title: REASONS[r] || r }, r))) : null,
    ),
    annotators.map((username) => {
      const m = mark(app.store, kind, g, username);
      return h("td", { class: `wb-mark ${m.cls}`, title: m.title, dataset: { annotator: username } }, m.text);
    }),
    h(
      "td",
      { class: "wb-compare-action" },
      inGold
        ? h("span", { class: "wb-gold-mark", title: "This version is in gold" }, "✓ gold")
        : app.store.isClosed()
          ? null // adjudicated: nothing to pick until the gold layer is reopened
          : h("button", { type: "button", class: "button wb-small wb-pick", onclick: () => app.pickGroup(kind, g) }, "Pick"),
    ),
  );
}

export function renderCompare(app) {
  const { store } = app;
  const el = app.el.compare;
  const review = store.review;
  if (!review) {
    replace(el, h("h2", {}, "Compare"), h("p", { class: "wb-muted" }, "Loading the annotators' versions…"));
    return;
  }
  const annotators = review.annotators.map((a) => a.username);
  const onlyDisputed = Boolean(app.ui.onlyDisputed);
  const open = (strategy) =>
    KINDS.reduce(
      (n, kind) =>
        n + groupsOf(store, kind).filter((g) => (g.gold === null || g.gold === undefined) && (strategy === "majority" ? g.agreement !== "minority" : g.agreement === "unanimous")).length,
      0,
    );
  const children = [
    h("h2", {}, `Compare (${annotators.length} annotator${annotators.length === 1 ? "" : "s"})`),
  ];
  if (!annotators.length) {
    children.push(h("p", { class: "wb-muted", id: "wb-compare-empty" }, "No annotator has started this article: there is nothing to compare. You can still annotate gold directly."));
    replace(el, children);
    return;
  }
  const summary = review.summary;
  children.push(
    h(
      "p",
      { class: "wb-muted", id: "wb-compare-summary" },
      KINDS.map((kind) => {
        const s = summary[`${kind}s`];
        return `${kind}s: ${s.groups} version(s), ${s.disputed} disputed, ${s.in_gold} in gold`;
      }).join(" · "),
    ),
    h(
      "div",
      { class: "wb-buttons" },
      h("button", { type: "button", class: "button", id: "wb-take-unanimous", onclick: () => app.merge("unanimous"), title: "Copy every item all annotators gave into gold" }, `Take unanimous (${open("unanimous")})`),
      h("button", { type: "button", class: "button", id: "wb-take-majority", onclick: () => app.merge("majority"), title: "Copy every item more than half of the annotators gave into gold" }, `Take majority (${open("majority")})`),
    ),
    h(
      "label",
      { class: "wb-field" },
      h("input", {
        type: "checkbox",
        id: "wb-only-disputed",
        checked: onlyDisputed,
        onchange: (event) => {
          app.ui.onlyDisputed = event.target.checked;
          app.renderPanels();
        },
      }),
      " Disputed only",
    ),
  );
  for (const kind of KINDS) {
    const list = groupsOf(store, kind).filter((g) => !onlyDisputed || g.disagreements.length);
    if (!list.length) continue;
    children.push(
      h("h3", {}, `${kind[0].toUpperCase()}${kind.slice(1)}s (${list.length})`),
      h(
        "table",
        { class: "wb-compare-table", id: `wb-compare-${kind}s` },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", {}, "Version"),
            annotators.map((name) => h("th", { class: "wb-mark", title: name }, name)),
            h("th", {}, ""),
          ),
        ),
        h("tbody", {}, list.map((g) => groupRow(app, kind, g, annotators))),
      ),
    );
  }
  replace(el, children);
  const current = el.querySelector(".wb-compare-row.wb-current");
  if (current && app.ui.revealRow) {
    app.ui.revealRow = false;
    const side = el.parentElement;
    const top = current.offsetTop - side.offsetTop;
    if (top < side.scrollTop || top > side.scrollTop + side.clientHeight - 40) side.scrollTop = top - side.clientHeight / 3;
  }
}

// The inspector for a selected candidate: who gave it, why it is disputed, Pick.
export function renderCandidate(app) {
  const { store, ui } = app;
  const g = findGroup(store, ui.active.kind, ui.active.key);
  const el = app.el.inspector;
  if (!g) return replace(el, h("h2", {}, "Selected"));
  replace(
    el,
    h("h2", {}, `Candidate ${ui.active.kind}`),
    h("p", {}, describe(store, ui.active.kind, g)),
    h("p", { class: "wb-muted" }, `Given by ${who(g)} · ${g.agreement}`),
    g.disagreements.length ? h("p", { class: "wb-warn", id: "wb-candidate-reasons" }, `Disputed: ${reasons(g)}`) : null,
    store.isClosed()
      ? null
      : h(
          "div",
          { class: "wb-buttons" },
          h("button", { type: "button", class: "button default", id: "wb-pick-selected", onclick: () => app.pickGroup(ui.active.kind, g) }, "Pick into gold (Enter)"),
        ),
  );
}

// Where a gold item came from, for the inspector.
export function provenanceLine(item) {
  const p = item && item.provenance;
  if (!p || !p.strategy) return null;
  const parts = [p.strategy];
  if (p.annotators && p.annotators.length) parts.push(`from ${p.annotators.join(", ")}`);
  if (p.reviewer) parts.push(`by ${p.reviewer}`);
  return h("p", { class: "wb-muted wb-provenance" }, `Gold: ${parts.join(" ")}`);
}

export function renderReviewBar(app) {
  const review = app.store.review;
  const stage = document.getElementById("wb-stage");
  const adjudicated = document.getElementById("wb-adjudicated");
  const annotators = document.getElementById("wb-annotators");
  const by = app.store.layer.adjudicated_by;
  if (adjudicated) replace(adjudicated, app.store.layer.status === "adjudicated" && by ? `· adjudicated by ${by}` : "");
  if (!review) return;
  if (stage) {
    stage.textContent = STAGES[review.stage] || review.stage;
    stage.className = `wb-stage wb-stage-${review.stage}`;
  }
  if (annotators)
    replace(
      annotators,
      "Annotators: ",
      review.annotators.length
        ? review.annotators.map((a, i) => [
            i ? " · " : "",
            h("span", { class: "wb-annotator-status", dataset: { annotator: a.username } }, a.username, " ", h("span", { class: `wb-status wb-status-${a.status}` }, STATUSES[a.status] || a.status)),
          ])
        : "none in progress or done",
      ` (overlap ${review.overlap})`,
    );
}

// --- Changes to gold ------------------------------------------------------------------------------

// The gold layer and the comparison as they are now (after a pick, a merge, an undo).
async function refreshReview(ctx) {
  const state = await ctx.call("GET", ctx.store.urls.state);
  ctx.store.setLayer(state.layer);
  ctx.store.review = state.review;
}

function itemIds(store) {
  return KINDS.flatMap((kind) => [...store.map(kind).keys()].filter((id) => id > 0).map((id) => `${kind}:${id}`));
}

export function goldPick(store, kind, group) {
  const annotator = group.annotators[0];
  const id = group.items[annotator];
  let created = [];
  return {
    label: `pick ${kind} ${kind === "mention" ? `${group.label} ${quote(group.text)}` : kind === "event" ? `${group.event_type} ${quote(group.trigger_text)}` : group.label} (${annotator}'s version)`,
    items: [],
    refreshesReview: true,
    async send(ctx) {
      const result = await ctx.call("POST", `${ctx.layerPath}pick/`, { items: [{ kind, id }] });
      created = result.created.map((c) => [c.kind, c.id]);
      await refreshReview(ctx);
    },
    inverse() {
      return created.length ? goldRemove(store, created, `undo ${this.label}`) : null;
    },
  };
}

export function goldMerge(store, strategy) {
  let created = [];
  return {
    label: `take the ${strategy} items`,
    items: [],
    refreshesReview: true,
    async send(ctx) {
      const before = new Set(itemIds(ctx.store));
      const result = await ctx.call("POST", `${ctx.layerPath}merge/`, { strategy });
      await refreshReview(ctx);
      created = itemIds(ctx.store)
        .filter((key) => !before.has(key))
        .map((key) => [key.split(":")[0], Number(key.split(":")[1])]);
      const n = result.created;
      this.label = `take the ${strategy} items: ${n.mentions} mention(s), ${n.events} event(s), ${n.stances} stance(s) added`;
    },
    inverse() {
      return created.length ? goldRemove(store, created, `undo taking the ${strategy} items`) : null;
    },
  };
}

// Undo of a pick or a merge: delete what it added.
function goldRemove(store, created, label) {
  return {
    label,
    items: [],
    refreshesReview: true,
    apply(st) {
      for (const [kind, id] of created) st.map(kind).delete(id);
    },
    async send(ctx) {
      await itemsDelete(ctx, created);
      await refreshReview(ctx);
    },
    inverse: null,
  };
}

// After a direct edit of gold the comparison's "in gold" marks and the stage may have moved.
export async function reloadComparison(app) {
  const state = await app.api.request("GET", app.store.urls.state);
  app.store.review = state.review;
  app.store.emit({ text: true });
}
