// The data feed: what the page knows of the mock, and how it learns it.
//
// It follows GET /_mock/journal/stream (C4: Server-Sent Events read with fetch, so that
// a key can go in a header), and reads GET /_mock/state and /_mock/faults at most every
// 400 ms while things happen. It never calls /v1: opening the page adds nothing to the
// journal and no fault counts it. Views read `model` and hear `feed`'s events:
//
//   change   something in the model changed (draw again)
//   entry    a journal entry came in (detail: the entry; `at_seq` is its place)
//   restart  the scope changed (a key given or dropped): what was known is gone
//   error    detail: an Error to show, or null when all is well again
//   live     detail: {state, text} of the stream's connection
//   gap      entries were dropped for room before the stream could send them

const KEEP_ENTRIES = 20000; // journal entries the page keeps per tenant
const KEEP_ENDED = 2000; // ended sessions kept on the timeline per tenant
const KEY_STORE = "mock-pokee-inspector-key";
export const REFRESH_MS = 400;

export const feed = new EventTarget();

function tell(name, detail) {
  feed.dispatchEvent(new CustomEvent(name, { detail }));
}

export const model = {
  key: null, // the tenant key that narrows the view, or null: every tenant (C2)
  keyTenant: null, // the tenant that key names, once the state has said
  tenants: new Map(), // id -> tenant (see newTenant)
  server: { clock: null, clockAt: 0, journal: [] }, // keyless requests, the server clock
  faults: [],
  lastSeq: 0, // the journal read up to
  stream: null, // the AbortController of the open journal stream
  generation: 0, // bumped when the key changes: late answers of the old scope are ignored
};

function newTenant(id) {
  return {
    id,
    clock: null,
    clockAt: 0,
    sessions: new Map(), // live, from the state
    ended: new Map(), // id -> {session, reason, at}
    endings: new Map(), // id -> {reason, at}, from the journal (expiry, deletion)
    turns: new Map(), // response id -> turn or stateless response (see turnOf)
    files: [],
    usage: null,
    journal: [],
    seenAt: performance.now(),
  };
}

function tenantOf(id) {
  let tenant = model.tenants.get(id);
  if (!tenant) {
    tenant = newTenant(id);
    model.tenants.set(id, tenant);
  }
  return tenant;
}

// A session's turn, or a stateless response (POST /v1/responses, contract R), which has
// no session: both are runs with events, kept in one list and shown side by side.
function turnOf(tenant, id, session) {
  let turn = tenant.turns.get(id);
  if (!turn) {
    const kind = isResponse(id, session) ? "response" : "turn";
    turn = { id, kind, session: session || null, scenario: "", status: "in_progress", started: null, ended: null, error: null, events: [], facts: {} };
    tenant.turns.set(id, turn);
  }
  return turn;
}

export function isResponse(id, session) {
  return !session && typeof id === "string" && id.startsWith("resp_");
}

// The tenant that holds session or turn `id`, if the page knows it.
export function ownerOf(kind, id) {
  for (const tenant of model.tenants.values()) {
    if (kind === "sessions" && (tenant.sessions.has(id) || tenant.ended.has(id))) return tenant;
    if (kind === "turns" && tenant.turns.has(id)) return tenant;
  }
  return null;
}

// The clock's time now, estimated between reads from its mode and scale (C1).
export function clockNow(clock, at) {
  if (!clock) return null;
  if (clock.mode === "virtual" || clock.mode === "autojump") return clock.now;
  const rate = clock.mode === "scaled" ? clock.scale : 1;
  return clock.now + ((performance.now() - at) / 1000) * rate;
}

// The clock the controls act on: the server's without a key, the tenant's with one.
export function scopeClock() {
  if (model.key) {
    const tenant = model.tenants.get(model.keyTenant);
    return tenant ? [tenant.clock, tenant.clockAt] : [null, 0];
  }
  return [model.server.clock, model.server.clockAt];
}

// ---------------------------------------------------------------- talking to the mock

function headers(extra) {
  const all = Object.assign({}, extra || {});
  if (model.key) all.Authorization = "Bearer " + model.key;
  return all;
}

export async function call(method, path, body) {
  const options = { method, headers: headers(body === undefined ? {} : { "Content-Type": "application/json" }), cache: "no-store" };
  if (body !== undefined) options.body = JSON.stringify(body);
  const response = await fetch(path, options);
  if (response.status === 204) return null;
  const text = await response.text();
  let answer = null;
  try {
    answer = text ? JSON.parse(text) : null;
  } catch (_) {
    answer = null;
  }
  if (!response.ok) {
    const message = answer && answer.message ? answer.message : text.slice(0, 300);
    const error = new Error(`${method} ${path} → ${response.status}: ${message}`);
    error.answer = message;
    throw error;
  }
  return answer;
}

// GET /_mock/journal with C4's filters (an object of kind, method, path, session, since),
// answered in this page's scope; `generation` says whether the scope changed meanwhile.
export async function readJournal(filters) {
  const generation = model.generation;
  const query = new URLSearchParams(Object.entries(filters).filter(([, v]) => v !== "" && v !== null && v !== undefined));
  const answer = await call("GET", "/_mock/journal?" + query.toString());
  return { answer, current: generation === model.generation };
}

async function loadState() {
  const generation = model.generation;
  const state = await call("GET", "/_mock/state");
  if (generation !== model.generation) return;
  const now = performance.now();
  const tenants = model.key ? [state] : state.tenants;
  if (model.key) {
    model.keyTenant = state.tenant;
  } else {
    model.server.clock = state.clock;
    model.server.clockAt = now;
  }
  const present = new Set();
  for (const described of tenants) {
    present.add(described.tenant);
    absorbTenant(tenantOf(described.tenant), described, now);
  }
  for (const [id, tenant] of model.tenants) {
    // Gone from the server (a reset), unless the journal has only just named it.
    if (!present.has(id) && now - tenant.seenAt > 2000) model.tenants.delete(id);
  }
  tell("error", null);
  tell("change");
}

function absorbTenant(tenant, described, now) {
  tenant.clock = described.clock;
  tenant.clockAt = now;
  tenant.files = described.files;
  tenant.usage = described.usage === undefined ? null : described.usage;
  const live = new Map(described.sessions.map((s) => [s.id, s]));
  for (const [id, session] of tenant.sessions) {
    if (!live.has(id)) endSession(tenant, id, session);
  }
  tenant.sessions = live;
  for (const described_turn of [...described.turns, ...(described.responses || [])]) {
    const turn = turnOf(tenant, described_turn.id, described_turn.session_id);
    turn.scenario = described_turn.scenario;
    turn.status = described_turn.status;
    turn.started = described_turn.started_at;
    turn.ended = described_turn.ended_at;
    turn.total = described_turn.events;
    turn.facts = described_turn; // every key the state gives (pending tool calls …)
  }
}

function endSession(tenant, id, session) {
  const ending = tenant.endings.get(id) || { reason: "gone", at: null };
  tenant.sessions.delete(id);
  tenant.ended.set(id, { session, reason: ending.reason, at: ending.at });
  if (tenant.ended.size > KEEP_ENDED) tenant.ended.delete(tenant.ended.keys().next().value);
}

async function loadFaults() {
  const generation = model.generation;
  const rules = await call("GET", "/_mock/faults");
  if (generation !== model.generation) return;
  model.faults = rules;
  tell("change");
}

// Whether a client heard an event is known only once it was sent (C4), after the stream
// passed it on: a turn's flags are read again when it is shown and when it ends.
export async function loadHeard(turn) {
  if (!turn.events.length) return;
  const since = turn.events[0].at_seq - 1;
  try {
    const filters = { kind: "event", since };
    if (turn.session) filters.session = turn.session; // a stateless response has none
    const { answer, current } = await readJournal(filters);
    if (!current) return;
    const heard = new Map();
    for (const entry of answer.entries) {
      if (entry.response_id === turn.id) heard.set(entry.event_seq, entry.heard);
    }
    for (const event of turn.events) {
      if (heard.has(event.event_seq)) event.heard = heard.get(event.event_seq);
    }
    tell("change");
  } catch (error) {
    tell("error", error);
  }
}

// One refresh of the state and the rules at most every 400 ms, whatever the traffic.
let refreshTimer = null;
let refreshing = false;
export function refreshSoon() {
  if (refreshTimer !== null) return;
  refreshTimer = setTimeout(async () => {
    refreshTimer = null;
    if (refreshing) return refreshSoon();
    refreshing = true;
    try {
      await Promise.all([loadState(), loadFaults()]);
    } catch (error) {
      tell("error", error);
    } finally {
      refreshing = false;
    }
  }, REFRESH_MS);
}

export async function refreshNow() {
  try {
    await Promise.all([loadState(), loadFaults()]);
  } catch (error) {
    tell("error", error);
  }
}

// Steer the mock (a clock move, a fault rule), show how that went, and look again.
export async function act(action) {
  try {
    await action();
    tell("error", null);
  } catch (error) {
    tell("error", error);
  }
  await refreshNow();
}

// ---------------------------------------------------------------- following the journal

async function follow() {
  const generation = model.generation;
  const control = new AbortController();
  model.stream = control;
  try {
    const since = model.lastSeq ? `?since=${model.lastSeq}` : "";
    const response = await fetch(`/_mock/journal/stream${since}`, {
      headers: headers(),
      signal: control.signal,
      cache: "no-store",
    });
    if (!response.ok) {
      const text = await response.text();
      let message = text;
      try {
        message = JSON.parse(text).message || text;
      } catch (_) {}
      throw new Error(`journal stream → ${response.status}: ${message}`);
    }
    tell("live", { state: "live", text: "live" });
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let start = 0;
      let end;
      while ((end = buffer.indexOf("\n\n", start)) >= 0) {
        onFrame(buffer.slice(start, end));
        start = end + 2;
      }
      buffer = buffer.slice(start);
    }
  } catch (error) {
    if (control.signal.aborted) return;
    tell("error", error);
  }
  if (generation !== model.generation) return;
  tell("live", { state: "reconnecting", text: "reconnecting…" });
  setTimeout(() => generation === model.generation && follow(), 1000);
}

// The frame's id is the entry's place in the journal (its `seq`), kept as `at_seq`; an
// event entry's number within its turn is its `event_seq` (C4).
function onFrame(frame) {
  let event = "message";
  let data = "";
  let id = 0;
  for (const line of frame.split("\n")) {
    if (line.startsWith("event: ")) event = line.slice(7);
    else if (line.startsWith("data: ")) data += line.slice(6);
    else if (line.startsWith("id: ")) id = Number(line.slice(4));
  }
  if (event === "entry") {
    const entry = JSON.parse(data);
    entry.at_seq = id;
    ingest(entry);
  } else if (event === "gap") {
    tell("gap");
  }
}

function ingest(entry) {
  if (entry.at_seq > model.lastSeq) model.lastSeq = entry.at_seq;
  const id = model.key ? model.keyTenant : entry.tenant;
  if (id === null || id === undefined) {
    keep(model.server.journal, entry);
    if (entry.kind === "clock") {
      model.server.clock = { mode: entry.mode, scale: entry.scale, now: entry.to };
      model.server.clockAt = performance.now();
    }
    tell("entry", entry);
    tell("change");
    return;
  }
  const tenant = tenantOf(id);
  tenant.seenAt = performance.now();
  keep(tenant.journal, entry);
  switch (entry.kind) {
    case "event": {
      const turn = turnOf(tenant, entry.response_id, entry.session);
      turn.events.push(entry);
      if (turn.started === null) turn.started = entry.at;
      refreshSoon(); // a turn moves its session's metadata and files as it goes
      break;
    }
    case "turn.start":
    case "response.start": {
      const turn = turnOf(tenant, entry.response_id, entry.session);
      turn.scenario = entry.scenario;
      turn.started = entry.at;
      refreshSoon();
      break;
    }
    case "turn.end":
    case "response.end": {
      const turn = turnOf(tenant, entry.response_id, entry.session);
      turn.status = entry.status;
      turn.ended = entry.at;
      turn.error = entry.error || null;
      refreshSoon();
      break;
    }
    case "expiry":
    case "deletion": {
      const reason = entry.kind === "expiry" ? "expired (" + entry.reason + ")" : "deleted";
      tenant.endings.set(entry.session, { reason, at: entry.at });
      const session = tenant.sessions.get(entry.session);
      if (session) endSession(tenant, entry.session, session);
      const ended = tenant.ended.get(entry.session);
      if (ended) Object.assign(ended, { reason, at: entry.at }); // the state saw it first
      refreshSoon();
      break;
    }
    case "clock":
      tenant.clock = { mode: entry.mode, scale: entry.scale, now: entry.to };
      tenant.clockAt = performance.now();
      refreshSoon();
      break;
    default: // requests and faults change sessions, files, usage and rule counts
      refreshSoon();
  }
  tell("entry", entry);
  tell("change");
}

function keep(list, entry) {
  list.push(entry);
  if (list.length > KEEP_ENTRIES * 1.1) list.splice(0, list.length - KEEP_ENTRIES);
}

// ---------------------------------------------------------------- the scope

// The key given as `?key=` (taken out of the address) or kept from before in this tab.
export function takeKey(given) {
  if (given !== null && given !== undefined) sessionStorage.setItem(KEY_STORE, given);
  model.key = sessionStorage.getItem(KEY_STORE) || null;
}

export function setKey(key) {
  model.key = key || null;
  if (model.key) sessionStorage.setItem(KEY_STORE, model.key);
  else sessionStorage.removeItem(KEY_STORE);
  restart();
}

export function restart() {
  model.generation++;
  if (model.stream) model.stream.abort();
  model.tenants = new Map();
  model.server = { clock: null, clockAt: 0, journal: [] };
  model.faults = [];
  model.keyTenant = null;
  model.lastSeq = 0;
  tell("live", { state: "connecting", text: "connecting…" });
  tell("restart");
  tell("change");
  start(model.generation);
}

async function start(generation) {
  try {
    await loadState();
    await loadFaults();
  } catch (error) {
    if (generation !== model.generation) return;
    tell("error", error);
    tell("live", { state: "error", text: "not connected" });
    return;
  }
  if (generation === model.generation) follow();
}
