// The layer as the page holds it (an annotator's layer, or on the review page the gold layer),
// the machine suggestions and what was decided, and on the review page the annotators' versions.
// Ids of items not saved yet are negative; once saved, `alias` maps them to the server's ids.

export class Store {
  constructor(data) {
    this.mode = data.mode || "annotate"; // "annotate" | "review"
    this.article = data.article;
    this.text = data.article.text;
    this.urls = data.urls;
    this.project = data.project;
    this.user = data.user;
    const schema = data.schema;
    this.schema = schema;
    this.entityTypes = new Map(schema.entity_types.map((e) => [e.code, e]));
    this.hotkeys = new Map(schema.entity_types.filter((e) => e.hotkey).map((e) => [e.hotkey, e.code]));
    this.eventTypes = new Map(schema.event_types.map((e) => [e.code, e]));
    this.stanceLabels = schema.stance_labels.map((s) => s.code);
    this.listeners = new Set();
    this.nextTmp = -1;
    this.aliases = new Map(); // "mention:-1" → 42
    this.unsavedKeys = new Set(); // "mention:42" items whose last change did not save
    this.load(data);
  }

  load(state) {
    this.setLayer(state.layer);
    const machine = state.machine;
    this.machine = machine
      ? {
          id: machine.id,
          model_version: machine.model_version,
          mentions: new Map(machine.mentions.map((m) => [m.id, m])),
          events: new Map(machine.events.map((e) => [e.id, e])),
          stances: new Map(machine.stances.map((s) => [s.id, s])),
        }
      : null;
    this.decided = new Set(state.decided);
    this.review = state.review || null;
    this.unsavedKeys.clear();
  }

  setLayer(layer) {
    this.layer = {
      id: layer.id,
      kind: layer.kind,
      version: layer.version,
      status: layer.status,
      annotator: layer.annotator,
      adjudicated_by: layer.adjudicated_by ?? null,
    };
    this.mentions = new Map(layer.mentions.map((m) => [m.id, m]));
    this.events = new Map(layer.events.map((e) => [e.id, e]));
    this.stances = new Map(layer.stances.map((s) => [s.id, s]));
  }

  // A layer marked done (annotators) or adjudicated (gold) takes no changes until it is reopened.
  get closedStatus() {
    return this.mode === "review" ? "adjudicated" : "done";
  }

  isClosed() {
    return this.layer.status === this.closedStatus;
  }

  closedMessage() {
    return this.mode === "review"
      ? "The gold layer is adjudicated. Reopen it (Shift+D) to change it."
      : "This layer is marked done. Reopen it (Shift+D) to change it.";
  }

  subscribe(fn) {
    this.listeners.add(fn);
  }

  emit(change = {}) {
    for (const fn of this.listeners) fn(change);
  }

  tmpId() {
    return this.nextTmp--;
  }

  map(kind) {
    return { mention: this.mentions, event: this.events, stance: this.stances }[kind];
  }

  resolve(kind, id) {
    let current = id;
    for (let i = 0; i < 50 && this.aliases.has(`${kind}:${current}`); i++) current = this.aliases.get(`${kind}:${current}`);
    return current;
  }

  get(kind, id) {
    return this.map(kind).get(this.resolve(kind, id));
  }

  // Replace the item `oldId` by the server's `item` (a new id), and point every reference at it.
  alias(kind, oldId, item) {
    const map = this.map(kind);
    map.delete(oldId);
    map.set(item.id, item);
    if (oldId === item.id) return;
    this.aliases.set(`${kind}:${oldId}`, item.id);
    if (kind === "mention") {
      for (const event of this.events.values())
        for (const arg of event.arguments) if (arg.mention === oldId) arg.mention = item.id;
      for (const stance of this.stances.values()) {
        if (stance.holder === oldId) stance.holder = item.id;
        if (stance.target === oldId) stance.target = item.id;
      }
    }
  }

  isUnsaved(kind, id) {
    return id < 0 || this.unsavedKeys.has(`${kind}:${id}`);
  }

  mentionAt(s, e, label = null) {
    for (const m of this.mentions.values()) if (m.start === s && m.end === e && (!label || m.label === label)) return m;
    return null;
  }

  // The layer's event of the same type on the same trigger as `like` (a suggestion made by hand).
  eventAt(like) {
    for (const e of this.events.values())
      if (e.event_type === like.event_type && e.trigger_start === like.trigger_start && e.trigger_end === like.trigger_end) return e;
    return null;
  }

  colour(label) {
    const type = this.entityTypes.get(label);
    return (type && type.color) || "#888888";
  }

  // --- Suggestions -------------------------------------------------------------------------

  suggestions(kind) {
    if (!this.machine) return [];
    const items = [];
    for (const item of this.machine[`${kind}s`].values()) {
      if (this.decided.has(`${kind}:${item.id}`)) continue;
      if (kind === "mention" && this.mentionAt(item.start, item.end)) continue; // already covered
      if (kind === "event" && this.eventAt(item)) continue; // made by hand: settled
      items.push(item);
    }
    return items;
  }

  // A suggestion still waiting for a decision (not decided, not covered by a mention of the layer).
  isPending(kind, id) {
    const item = this.machine ? this.machine[`${kind}s`].get(id) : null;
    if (!item || this.decided.has(`${kind}:${id}`)) return false;
    if (kind === "event") return !this.eventAt(item);
    return !(kind === "mention" && this.mentionAt(item.start, item.end));
  }

  suggestionLabel(kind, item) {
    return kind === "event" ? item.event_type : item.label;
  }

  machineMention(id) {
    return this.machine ? this.machine.mentions.get(id) : null;
  }
}
