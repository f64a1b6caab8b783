// Every change the annotator makes is a small object: applied on screen at once, sent to the API
// in order (each write names the layer version it read), and undoable through its inverse.

import { ApiError } from "./api.js";
import { quote } from "./dom.js";

// --- The save queue --------------------------------------------------------------------------

export class Saver {
  constructor(store, api, hooks) {
    this.store = store;
    this.api = api;
    this.hooks = hooks; // { saving(change), saved(change), failed(change, error), message(text, level) }
    this.queue = [];
    this.running = false;
    this.unsaved = []; // changes that failed or wait for a conflict to be resolved
    this.conflict = null; // { expected, current } after a 409
    this.undoStack = [];
  }

  get busy() {
    return this.running || this.queue.length > 0;
  }

  run(change, { undoable = true } = {}) {
    if (this.store.isClosed() && !change.allowWhenDone) {
      this.hooks.message(this.store.closedMessage(), "warning");
      return false;
    }
    change.undoable = undoable;
    change.error = null;
    if (change.apply) change.apply(this.store);
    this.store.emit({ text: true });
    this.queue.push(change);
    this.pump();
    return true;
  }

  async pump() {
    if (this.running) return;
    this.running = true;
    while (this.queue.length) {
      const change = this.queue.shift();
      if (this.conflict) {
        this.unsaved.push(change);
        this.mark(change, true);
        this.hooks.failed(change, null);
        continue;
      }
      this.hooks.saving(change);
      try {
        await change.send(this.context());
        this.mark(change, false);
        if (change.undoable && change.inverse) this.undoStack.push(change);
        this.hooks.saved(change);
        change.after?.(change); // what the page does once this change is saved (arm a role, …)
      } catch (error) {
        const err = error instanceof ApiError ? error : new ApiError(0, null, String(error && error.message));
        change.error = err;
        if (err.isConflict) this.conflict = { current: err.currentVersion, expected: this.store.layer.version };
        this.unsaved.push(change);
        this.mark(change, true);
        this.hooks.failed(change, err);
      }
      this.store.emit({ text: true });
    }
    this.running = false;
    this.hooks.idle?.();
  }

  mark(change, unsaved) {
    for (const [kind, id] of change.items || []) {
      const key = `${kind}:${this.store.resolve(kind, id)}`;
      if (unsaved) this.store.unsavedKeys.add(key);
      else this.store.unsavedKeys.delete(key);
    }
  }

  context() {
    const store = this.store;
    const api = this.api;
    return {
      store,
      layerPath: `layers/${store.layer.id}/`,
      async call(method, path, body) {
        let url = path;
        let payload = body;
        if (method === "DELETE") url += `${url.includes("?") ? "&" : "?"}version=${store.layer.version}`;
        else if (method !== "GET") payload = { ...(body || {}), version: store.layer.version };
        const result = await api.request(method, url, method === "DELETE" || method === "GET" ? undefined : payload);
        if (result && typeof result.layer_version === "number") {
          store.layer.version = result.layer_version;
          // The first write moves an annotator's layer from not started to in progress.
          if (store.layer.status === "not_started" && store.layer.kind !== "gold") store.layer.status = "in_progress";
        }
        else if (result && result.id === store.layer.id && typeof result.version === "number") {
          store.layer.version = result.version;
          store.layer.status = result.status;
          if ("adjudicated_by" in result) store.layer.adjudicated_by = result.adjudicated_by;
        }
        return result;
      },
    };
  }

  undo() {
    if (this.busy) {
      this.hooks.message("Still saving — undo in a moment.", "warning");
      return;
    }
    const change = this.undoStack.pop();
    if (!change) {
      this.hooks.message("Nothing to undo.", "info");
      return;
    }
    const inverse = change.inverse();
    if (!inverse) {
      this.hooks.message(`“${change.label}” can't be undone.`, "warning");
      return;
    }
    inverse.label = `Undo: ${change.label}`;
    inverse.allowWhenDone = inverse.allowWhenDone || change.allowWhenDone;
    if (!this.run(inverse, { undoable: false })) this.undoStack.push(change);
  }

  retry(change) {
    this.unsaved = this.unsaved.filter((c) => c !== change);
    change.error = null;
    this.queue.push(change);
    this.pump();
  }

  discard(change) {
    this.unsaved = this.unsaved.filter((c) => c !== change);
    if (change.revert) change.revert(this.store);
    this.mark(change, false);
    this.store.emit({ text: true });
  }

  // After a conflict: load the layer as it is now, then re-apply (or drop) the unsaved changes.
  // Changes the layer no longer takes (it was closed meanwhile) or no longer needs (the status it
  // asks for is already set) are dropped, and said so: they would overwrite the other's work.
  // Returns the labels of the changes dropped that way.
  async reload(keep) {
    const state = await this.api.request("GET", this.store.urls.state);
    const pending = this.unsaved;
    this.unsaved = [];
    this.conflict = null;
    this.undoStack = []; // the inverses refer to a layer that has changed since
    this.store.load(state);
    const dropped = [];
    if (keep) {
      for (const change of pending) {
        if ((this.store.isClosed() && !change.allowWhenDone) || change.redundant?.(this.store)) {
          dropped.push(change.label);
          continue;
        }
        change.error = null;
        if (change.apply) change.apply(this.store);
        this.queue.push(change);
      }
    }
    this.store.emit({ text: true, reloaded: true });
    this.pump();
    return dropped;
  }
}

function unsavedRef(kind, id) {
  return new ApiError(0, null, `This needs the ${kind} ${id < 0 ? "that is not saved yet" : id}: save or discard that first.`);
}

// A mention reference: an id, or { s, e, label } to be found at send time (an accepted suggestion).
export function resolveMention(store, ref) {
  if (typeof ref === "number") return store.resolve("mention", ref);
  const found = store.mentionAt(ref.s, ref.e, ref.label);
  return found ? found.id : -1;
}

// --- Mentions --------------------------------------------------------------------------------

export function mentionCreate(store, { label, start, end, actor = null, actorName = null }) {
  const tmp = store.tmpId();
  const text = [...store.text].slice(start, end).join("");
  let created = null;
  return {
    label: `add ${label} ${quote(text)}`,
    items: [["mention", tmp]],
    tmp,
    apply(st) {
      st.mentions.set(tmp, { id: tmp, label, start, end, text, actor, actor_name: actorName, score: null });
    },
    revert(st) {
      st.mentions.delete(tmp);
    },
    async send(ctx) {
      const body = { label, start, end, text };
      if (actor) body.actor = actor;
      const result = await ctx.call("POST", `${ctx.layerPath}mentions/`, body);
      ctx.store.alias("mention", tmp, result);
      created = result.id;
    },
    inverse() {
      return mentionDelete(store, created);
    },
  };
}

export function mentionUpdate(store, id, patch, { actorName } = {}) {
  let before = null;
  const current = store.get("mention", id);
  const what = "label" in patch ? `${patch.label}` : patch.actor ? `link to ${actorName}` : "unlink actor";
  return {
    label: `change ${quote(current ? current.text : "mention")} to ${what}`,
    items: [["mention", id]],
    apply(st) {
      const m = st.get("mention", id);
      if (!m) return;
      before = {};
      for (const key of Object.keys(patch)) before[key] = m[key];
      if ("actor" in patch) before.actor_name = m.actor_name;
      Object.assign(m, patch);
      if ("actor" in patch) m.actor_name = patch.actor ? actorName : null;
    },
    revert(st) {
      const m = st.get("mention", id);
      if (m && before) Object.assign(m, before);
    },
    async send(ctx) {
      const real = ctx.store.resolve("mention", id);
      if (real < 0) throw unsavedRef("mention", real);
      const result = await ctx.call("PATCH", `${ctx.layerPath}mentions/${real}/`, patch);
      ctx.store.mentions.set(real, result);
    },
    inverse() {
      const back = { ...before };
      const name = back.actor_name;
      delete back.actor_name;
      return mentionUpdate(store, id, back, { actorName: name });
    },
  };
}

export function mentionDelete(store, id) {
  let snapshot = null;
  let argumentsOf = []; // [eventId, role]
  let stances = [];
  const current = store.get("mention", id);
  return {
    label: `delete ${current ? current.label : ""} ${quote(current ? current.text : "mention")}`,
    items: [],
    apply(st) {
      const real = st.resolve("mention", id);
      const m = st.mentions.get(real);
      if (!m) return;
      snapshot = { ...m };
      st.mentions.delete(real);
      argumentsOf = [];
      for (const event of st.events.values()) {
        const kept = [];
        for (const arg of event.arguments) {
          if (arg.mention === real) argumentsOf.push([event.id, arg.role]);
          else kept.push(arg);
        }
        event.arguments = kept;
      }
      stances = [];
      for (const stance of [...st.stances.values()]) {
        if (stance.holder === real || stance.target === real) {
          stances.push({ ...stance });
          st.stances.delete(stance.id);
        }
      }
    },
    revert(st) {
      if (!snapshot) return;
      st.mentions.set(snapshot.id, snapshot);
      for (const [eventId, role] of argumentsOf) st.events.get(eventId)?.arguments.push({ role, mention: snapshot.id });
      for (const stance of stances) st.stances.set(stance.id, stance);
    },
    async send(ctx) {
      const real = ctx.store.resolve("mention", id);
      if (real < 0) throw unsavedRef("mention", real);
      await ctx.call("DELETE", `${ctx.layerPath}mentions/${real}/`);
    },
    inverse() {
      return snapshot ? mentionRestore(store, snapshot, argumentsOf, stances) : null;
    },
  };
}

// Undo of a delete: the mention again, back in the roles it filled, with the stances it held.
function mentionRestore(store, snapshot, argumentsOf, stances) {
  const tmp = store.tmpId();
  const restored = stances.map((s) => ({ ...s, id: store.tmpId(), old: s.id }));
  return {
    label: `restore ${snapshot.label} ${quote(snapshot.text)}`,
    items: [["mention", tmp]],
    apply(st) {
      st.mentions.set(tmp, { ...snapshot, id: tmp });
      st.aliases.set(`mention:${snapshot.id}`, tmp);
      for (const [eventId, role] of argumentsOf) st.get("event", eventId)?.arguments.push({ role, mention: tmp });
      for (const s of restored) {
        const copy = { ...s };
        if (copy.holder === snapshot.id) copy.holder = tmp;
        if (copy.target === snapshot.id) copy.target = tmp;
        st.stances.set(s.id, copy);
      }
    },
    revert(st) {
      st.mentions.delete(tmp);
      for (const s of restored) st.stances.delete(s.id);
    },
    async send(ctx) {
      const body = { label: snapshot.label, start: snapshot.start, end: snapshot.end, text: snapshot.text };
      if (snapshot.actor) body.actor = snapshot.actor;
      const created = await ctx.call("POST", `${ctx.layerPath}mentions/`, body);
      ctx.store.alias("mention", tmp, created);
      for (const eventId of new Set(argumentsOf.map(([e]) => e))) {
        const event = ctx.store.get("event", eventId);
        if (!event || event.id < 0) continue;
        const result = await ctx.call("PATCH", `${ctx.layerPath}events/${event.id}/`, {
          arguments: event.arguments.map((a) => ({ role: a.role, mention: ctx.store.resolve("mention", a.mention) })),
        });
        ctx.store.events.set(result.id, result);
      }
      for (const s of restored) {
        const local = ctx.store.stances.get(s.id);
        if (!local) continue;
        const result = await ctx.call("POST", `${ctx.layerPath}stances/`, stanceBody(ctx.store, local));
        ctx.store.alias("stance", s.id, result);
        ctx.store.aliases.set(`stance:${s.old}`, result.id);
      }
    },
    inverse() {
      return mentionDelete(store, tmp);
    },
  };
}

// --- Events ----------------------------------------------------------------------------------

function argumentBody(store, args) {
  return args.map((a) => {
    const mention = resolveMention(store, a.mention);
    if (mention < 0) throw unsavedRef("mention", mention);
    return { role: a.role, mention };
  });
}

export function eventCreate(store, fields) {
  const tmp = store.tmpId();
  const trigger = [...store.text].slice(fields.trigger_start, fields.trigger_end).join("");
  let created = null;
  const event = {
    event_type: fields.event_type,
    trigger_start: fields.trigger_start,
    trigger_end: fields.trigger_end,
    trigger_text: trigger,
    mode: fields.mode || "",
    realis: fields.realis,
    contexts: fields.contexts || [],
    arguments: (fields.arguments || []).map((a) => ({ ...a })),
    not_stated: [...(fields.not_stated || [])],
    score: null,
  };
  return {
    label: `add event ${fields.event_type} ${quote(trigger)}`,
    items: [["event", tmp]],
    tmp,
    apply(st) {
      st.events.set(tmp, { ...event, id: tmp, arguments: event.arguments.map((a) => ({ ...a })) });
    },
    revert(st) {
      st.events.delete(tmp);
    },
    async send(ctx) {
      const local = ctx.store.events.get(tmp) || event;
      const result = await ctx.call("POST", `${ctx.layerPath}events/`, {
        event_type: local.event_type,
        trigger_start: local.trigger_start,
        trigger_end: local.trigger_end,
        trigger_text: local.trigger_text,
        mode: local.mode,
        realis: local.realis,
        contexts: local.contexts,
        arguments: argumentBody(ctx.store, local.arguments),
        not_stated: local.not_stated || [],
      });
      ctx.store.alias("event", tmp, result);
      created = result.id;
    },
    inverse() {
      return eventDelete(store, created);
    },
  };
}

export function eventUpdate(store, id, patch, label) {
  let before = null;
  return {
    label: label || "change event",
    items: [["event", id]],
    apply(st) {
      const event = st.get("event", id);
      if (!event) return;
      before = {};
      for (const key of Object.keys(patch)) before[key] = structuredClone(event[key]);
      Object.assign(event, structuredClone(patch));
    },
    revert(st) {
      const event = st.get("event", id);
      if (event && before) Object.assign(event, before);
    },
    async send(ctx) {
      const real = ctx.store.resolve("event", id);
      if (real < 0) throw unsavedRef("event", real);
      const body = { ...patch };
      if (body.arguments) body.arguments = argumentBody(ctx.store, body.arguments);
      const result = await ctx.call("PATCH", `${ctx.layerPath}events/${real}/`, body);
      ctx.store.events.set(real, result);
    },
    inverse() {
      return before ? eventUpdate(store, id, before, `undo ${label || "event change"}`) : null;
    },
  };
}

export function eventDelete(store, id) {
  let snapshot = null;
  const current = store.get("event", id);
  return {
    label: `delete event ${current ? current.event_type : ""} ${quote(current ? current.trigger_text : "")}`,
    items: [],
    apply(st) {
      const real = st.resolve("event", id);
      snapshot = st.events.get(real) ? structuredClone(st.events.get(real)) : null;
      st.events.delete(real);
    },
    revert(st) {
      if (snapshot) st.events.set(snapshot.id, snapshot);
    },
    async send(ctx) {
      const real = ctx.store.resolve("event", id);
      if (real < 0) throw unsavedRef("event", real);
      await ctx.call("DELETE", `${ctx.layerPath}events/${real}/`);
    },
    inverse() {
      if (!snapshot) return null;
      const again = eventCreate(store, snapshot);
      const send = again.send;
      again.send = async (ctx) => {
        await send(ctx);
        ctx.store.aliases.set(`event:${snapshot.id}`, ctx.store.resolve("event", again.tmp));
      };
      return again;
    },
  };
}

// --- Stances ---------------------------------------------------------------------------------

function stanceBody(store, s) {
  const body = { label: s.label, scope: s.scope || "sentence" };
  body.holder = s.holder === null || s.holder === undefined ? null : resolveMention(store, s.holder);
  body.target = s.target === null || s.target === undefined ? null : resolveMention(store, s.target);
  if (body.holder !== null && body.holder < 0) throw unsavedRef("mention", body.holder);
  if (body.target !== null && body.target < 0) throw unsavedRef("mention", body.target);
  if (s.target_actor) body.target_actor = s.target_actor;
  if (s.evidence_start !== null && s.evidence_start !== undefined) {
    body.evidence_start = s.evidence_start;
    body.evidence_end = s.evidence_end;
    body.evidence_text = s.evidence_text;
  }
  return body;
}

export function stanceCreate(store, fields) {
  const tmp = store.tmpId();
  let created = null;
  const stance = { ...fields, id: tmp, score: null };
  return {
    label: `add stance ${fields.label}`,
    items: [["stance", tmp]],
    tmp,
    apply(st) {
      st.stances.set(tmp, { ...stance });
    },
    revert(st) {
      st.stances.delete(tmp);
    },
    async send(ctx) {
      const result = await ctx.call("POST", `${ctx.layerPath}stances/`, stanceBody(ctx.store, ctx.store.stances.get(tmp) || stance));
      ctx.store.alias("stance", tmp, result);
      created = result.id;
    },
    inverse() {
      return stanceDelete(store, created);
    },
  };
}

export function stanceUpdate(store, id, patch, label) {
  let before = null;
  return {
    label: label || "change stance",
    items: [["stance", id]],
    apply(st) {
      const s = st.get("stance", id);
      if (!s) return;
      before = {};
      for (const key of Object.keys(patch)) before[key] = s[key];
      Object.assign(s, patch);
    },
    revert(st) {
      const s = st.get("stance", id);
      if (s && before) Object.assign(s, before);
    },
    async send(ctx) {
      const real = ctx.store.resolve("stance", id);
      if (real < 0) throw unsavedRef("stance", real);
      const body = { ...patch };
      for (const key of ["holder", "target"]) {
        if (key in body && body[key] !== null) {
          body[key] = resolveMention(ctx.store, body[key]);
          if (body[key] < 0) throw unsavedRef("mention", body[key]);
        }
      }
      const result = await ctx.call("PATCH", `${ctx.layerPath}stances/${real}/`, body);
      ctx.store.stances.set(real, result);
    },
    inverse() {
      return before ? stanceUpdate(store, id, before, `undo ${label || "stance change"}`) : null;
    },
  };
}

export function stanceDelete(store, id) {
  let snapshot = null;
  return {
    label: "delete stance",
    items: [],
    apply(st) {
      const real = st.resolve("stance", id);
      snapshot = st.stances.get(real) ? { ...st.stances.get(real) } : null;
      st.stances.delete(real);
    },
    revert(st) {
      if (snapshot) st.stances.set(snapshot.id, snapshot);
    },
    async send(ctx) {
      const real = ctx.store.resolve("stance", id);
      if (real < 0) throw unsavedRef("stance", real);
      await ctx.call("DELETE", `${ctx.layerPath}stances/${real}/`);
    },
    inverse() {
      if (!snapshot) return null;
      const fields = { ...snapshot };
      delete fields.id;
      return stanceCreate(store, fields);
    },
  };
}

// --- Suggestions -----------------------------------------------------------------------------

// decision: "accept" | "reject"; target: { items: [{kind, id}] } | { kind, label } | { all: true }
export function suggestionsDecide(store, decision, target, label) {
  let marked = [];
  let created = []; // [kind, id] added to the layer by an accept
  const change = {
    label,
    items: [],
    apply(st) {
      marked = [];
      const keys = [];
      if (target.items) for (const item of target.items) keys.push(`${item.kind}:${item.id}`);
      else {
        const kinds = target.all ? ["mention", "event", "stance"] : [target.kind];
        for (const kind of kinds)
          for (const item of st.suggestions(kind))
            if (!target.label || st.suggestionLabel(kind, item) === target.label) keys.push(`${kind}:${item.id}`);
      }
      for (const key of keys)
        if (!st.decided.has(key)) {
          st.decided.add(key);
          marked.push(key);
        }
    },
    revert(st) {
      for (const key of marked) st.decided.delete(key);
    },
    async send(ctx) {
      const st = ctx.store;
      const before = {
        mention: new Set(st.mentions.keys()),
        event: new Set(st.events.keys()),
        stance: new Set(st.stances.keys()),
      };
      // "All" and "all of a label" are sent as the items the page showed: a suggestion the
      // annotator made by hand meanwhile (settled on the page) is not accepted a second time.
      const body = target.items ? { ...target } : { items: marked.map((key) => ({ kind: key.split(":")[0], id: Number(key.split(":")[1]) })) };
      if (!body.items.length) return;
      if (st.machine) body.model_version = st.machine.model_version;
      const result = await ctx.call("POST", `${ctx.layerPath}suggestions/${decision}/`, body);
      for (const d of result.decisions) st.decided.add(`${d.item_kind}:${d.suggestion_id}`);
      if (decision === "accept" && result.decisions.length) {
        const layer = await ctx.call("GET", ctx.layerPath);
        st.setLayer(layer);
        created = result.decisions
          .filter((d) => d.result_id && !before[d.item_kind].has(d.result_id))
          .map((d) => [d.item_kind, d.result_id]);
      }
      change.decisions = result.decisions;
    },
    inverse() {
      return suggestionsUndo(store, decision, marked, created, label);
    },
  };
  return change;
}

// Undo of a decision: the items an accept added are deleted and the suggestions shown again.
// (The decisions stay recorded: they are the learning record of what the annotator did.)
function suggestionsUndo(store, decision, keys, created, label) {
  return {
    label: `undo ${label}`,
    items: [],
    apply(st) {
      for (const key of keys) st.decided.delete(key);
      for (const [kind, id] of created) st.map(kind).delete(id);
    },
    async send(ctx) {
      await itemsDelete(ctx, created);
    },
    inverse: null,
  };
}

// Delete [kind, id] items of the layer: stances and events first (deleting a mention would take
// them along); one already gone is fine.
export async function itemsDelete(ctx, items) {
  const order = { stance: 0, event: 1, mention: 2 };
  for (const [kind, id] of [...items].sort((a, b) => order[a[0]] - order[b[0]])) {
    try {
      await ctx.call("DELETE", `${ctx.layerPath}${kind}s/${id}/`);
    } catch (err) {
      if (err.status !== 404) throw err;
    }
  }
}

// --- The layer's status ------------------------------------------------------------------------

export function statusSet(store, status) {
  let before = null;
  const labels = { done: "mark the layer done", adjudicated: "mark the gold layer adjudicated" };
  return {
    label: labels[status] || (store.mode === "review" ? "reopen the gold layer" : "reopen the layer"),
    items: [],
    allowWhenDone: true,
    apply(st) {
      before = st.layer.status;
    },
    redundant(st) {
      return st.layer.status === status;
    },
    async send(ctx) {
      await ctx.call("PATCH", ctx.layerPath, { status });
    },
    inverse() {
      // A gold layer is reopened to in progress (there is no way back to not started).
      const back = before === "not_started" && store.mode === "review" ? "in_progress" : before;
      return back && back !== "not_started" ? statusSet(store, back) : null;
    },
  };
}
