// mock-pokee inspector: shows and steers the mock through its control plane (/_mock).
//
// It reads GET /_mock/state and /_mock/faults, and follows GET /_mock/journal/stream
// (C4, Server-Sent Events read with fetch, so that a key can go in a header). It never
// calls /v1: opening the page adds nothing to the journal and no fault counts it.
// Everything shown is put in the page as text, never as HTML. Long lists are windowed:
// only the rows in view exist in the page, so 1,000 sessions or a 10,000-event turn
// cost what 40 rows cost. A key is kept in this tab's sessionStorage and never shown.
"use strict";

const ROW = 24; // px, as --row in the stylesheet
const KEEP_ENTRIES = 20000; // journal entries the page keeps per tenant
const KEEP_ENDED = 2000; // ended sessions kept on the timeline per tenant
const KEY_STORE = "mock-pokee-inspector-key";
const TERMINAL = new Set(["message.completed", "message.error", "message.cancelled"]);

const $ = (selector) => document.querySelector(selector);

// ---------------------------------------------------------------- the page's model

const model = {
  key: null, // the tenant key that narrows the view, or null: every tenant (C2)
  keyTenant: null, // the tenant that key names, once the state has said
  tenants: new Map(), // id -> tenant (see newTenant)
  server: { clock: null, clockAt: 0, journal: [] }, // keyless requests, the server clock
  faults: [],
  selected: null, // tenant id
  selectedTurn: null, // response id
  view: "sessions",
  lastSeq: 0, // the journal read up to
  stream: null, // the AbortController of the open journal stream
  generation: 0, // bumped when the key changes: late answers of the old view are ignored
};

function newTenant(id) {
  return {
    id,
    clock: null,
    clockAt: 0,
    sessions: new Map(), // live, from the state
    ended: new Map(), // id -> {session, reason, at}
    endings: new Map(), // id -> {reason, at}, from the journal (expiry, deletion)
    turns: new Map(), // response id -> turn (see turnOf)
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
    if (model.selected === null) model.selected = id;
  }
  return tenant;
}

function turnOf(tenant, id, session) {
  let turn = tenant.turns.get(id);
  if (!turn) {
    turn = { id, session, scenario: "", status: "in_progress", started: null, ended: null, error: null, events: [] };
    tenant.turns.set(id, turn);
  }
  return turn;
}

// The clock's time now, estimated between reads from its mode and scale (C1).
function clockNow(clock, at) {
  if (!clock) return null;
  if (clock.mode === "virtual") return clock.now;
  const rate = clock.mode === "scaled" ? clock.scale : 1;
  return clock.now + ((performance.now() - at) / 1000) * rate;
}

// ---------------------------------------------------------------- talking to the mock

function headers(extra) {
  const all = Object.assign({}, extra || {});
  if (model.key) all.Authorization = "Bearer " + model.key;
  return all;
}

async function call(method, path, body) {
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
    throw new Error(`${method} ${path} → ${response.status}: ${message}`);
  }
  return answer;
}

function showError(error) {
  const box = $("#error");
  box.hidden = !error;
  box.textContent = error ? String(error.message || error) : "";
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
  if (model.selected !== null && !model.tenants.has(model.selected)) model.selected = null;
  if (model.selected === null && model.tenants.size) model.selected = model.tenants.keys().next().value;
  showError(null);
  redraw();
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
  for (const described_turn of described.turns) {
    const turn = turnOf(tenant, described_turn.id, described_turn.session_id);
    turn.scenario = described_turn.scenario;
    turn.status = described_turn.status;
    turn.started = described_turn.started_at;
    turn.ended = described_turn.ended_at;
    turn.total = described_turn.events;
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
  redraw();
}

// Whether a client heard an event is known only once it was sent (C4), after the stream
// passed it on: a turn's flags are read again when it is picked and when it ends.
async function loadHeard(turn) {
  if (!turn.events.length) return;
  const since = turn.events[0].at_seq - 1;
  const query = `kind=event&session=${encodeURIComponent(turn.session)}&since=${since}`;
  try {
    const answer = await call("GET", "/_mock/journal?" + query);
    const heard = new Map();
    for (const entry of answer.entries) {
      if (entry.response_id === turn.id) heard.set(entry.event_seq, entry.heard);
    }
    for (const event of turn.events) {
      if (heard.has(event.event_seq)) event.heard = heard.get(event.event_seq);
    }
    schedule();
  } catch (error) {
    showError(error);
  }
}

// One refresh of the state and the rules at most every 400 ms, whatever the traffic.
let refreshTimer = null;
let refreshing = false;
function refreshSoon() {
  if (refreshTimer !== null) return;
  refreshTimer = setTimeout(async () => {
    refreshTimer = null;
    if (refreshing) return refreshSoon();
    refreshing = true;
    try {
      await Promise.all([loadState(), loadFaults()]);
    } catch (error) {
      showError(error);
    } finally {
      refreshing = false;
    }
  }, 400);
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
    setLive("live", "live");
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
    showError(error);
  }
  if (generation !== model.generation) return;
  setLive("reconnecting", "reconnecting…");
  setTimeout(() => generation === model.generation && follow(), 1000);
}

function setLive(state, text) {
  const live = $("#live");
  live.dataset.state = state;
  live.textContent = text;
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
  }
  else if (event === "gap") {
    $("#journal-gap").textContent = "some entries were dropped for room before they could be shown";
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
    schedule();
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
      break;
    }
    case "turn.start": {
      const turn = turnOf(tenant, entry.response_id, entry.session);
      turn.scenario = entry.scenario;
      turn.started = entry.at;
      if (model.selectedTurn === null && tenant.id === model.selected) model.selectedTurn = turn.id;
      refreshSoon();
      break;
    }
    case "turn.end": {
      const turn = turnOf(tenant, entry.response_id, entry.session);
      turn.status = entry.status;
      turn.ended = entry.at;
      turn.error = entry.error || null;
      if (turn.id === model.selectedTurn) setTimeout(() => loadHeard(turn), 300);
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
  schedule();
}

function keep(list, entry) {
  list.push(entry);
  if (list.length > KEEP_ENTRIES * 1.1) list.splice(0, list.length - KEEP_ENTRIES);
}

// ---------------------------------------------------------------- windowed lists

class Rows {
  // A list whose rows are drawn only while in view. `draw(item, index)` makes a row.
  constructor(box, draw) {
    this.box = box;
    this.draw = draw;
    this.items = [];
    this.spacer = document.createElement("div");
    this.spacer.className = "spacer";
    box.replaceChildren(this.spacer);
    box.addEventListener("scroll", () => this.paint(), { passive: true });
  }

  // New items; a list scrolled to its end stays at its end (a live turn is followed).
  set(items) {
    const box = this.box;
    const atEnd = box.scrollTop + box.clientHeight >= box.scrollHeight - ROW;
    this.items = items;
    this.spacer.style.height = items.length * ROW + "px";
    if (atEnd && this.follow) box.scrollTop = box.scrollHeight;
    this.paint();
  }

  paint() {
    const box = this.box;
    const first = Math.max(0, Math.floor(box.scrollTop / ROW) - 5);
    const last = Math.min(this.items.length, Math.ceil((box.scrollTop + box.clientHeight) / ROW) + 5);
    const rows = [];
    for (let i = first; i < last; i++) {
      const row = this.draw(this.items[i], i);
      row.classList.add("row");
      row.style.top = i * ROW + "px";
      rows.push(row);
    }
    this.spacer.replaceChildren(...rows);
  }
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

// ---------------------------------------------------------------- drawing

let lists = null;
let drawPending = false;

function schedule() {
  if (drawPending) return;
  drawPending = true;
  requestAnimationFrame(() => {
    drawPending = false;
    draw();
  });
}

const redraw = schedule;

function draw() {
  drawTenants();
  drawClock();
  const tenant = model.selected === null ? null : model.tenants.get(model.selected) || null;
  $("#tenant-title").textContent = tenant ? "tenant " + tenant.id : "no tenant yet";
  if (model.view === "sessions") drawSessions(tenant);
  else if (model.view === "turns") drawTurns(tenant);
  else if (model.view === "files") drawFiles(tenant);
  else if (model.view === "faults") drawFaults();
  else if (model.view === "usage") drawUsage(tenant);
  else if (model.view === "journal") drawJournal(tenant);
}

function drawTenants() {
  const list = $("#tenant-list");
  const items = [];
  for (const tenant of model.tenants.values()) {
    const button = el("button", "tenant" + (tenant.id === model.selected ? " selected" : ""));
    button.type = "button";
    button.dataset.tenant = tenant.id;
    button.append(el("span", "name", tenant.id));
    let running = 0;
    for (const turn of tenant.turns.values()) if (turn.status === "in_progress") running++;
    const now = clockNow(tenant.clock, tenant.clockAt);
    const facts = `${tenant.sessions.size} sessions · ${running} running · ${tenant.files.length} files` +
      (now === null ? "" : " · " + clockText(now));
    button.append(el("span", "facts", facts));
    items.push(button);
  }
  if (!items.length) items.push(el("p", "muted", "No tenant yet: send a request with a key."));
  list.replaceChildren(...items);
}

function scopeClock() {
  if (model.key) {
    const tenant = model.tenants.get(model.keyTenant);
    return tenant ? [tenant.clock, tenant.clockAt] : [null, 0];
  }
  return [model.server.clock, model.server.clockAt];
}

function drawClock() {
  const [clock, at] = scopeClock();
  $("#clock-scope").textContent = model.key ? "tenant clock" : "server clock (every tenant)";
  const now = clockNow(clock, at);
  $("#clock-now").textContent = now === null ? "–" : clockText(now) + "  (" + clock.mode + (clock.mode === "scaled" ? " ×" + clock.scale : "") + ")";
  const mode = $("#clock-mode");
  if (clock && document.activeElement !== mode && !mode.dataset.touched) mode.value = clock.mode;
  const scale = $("#clock-scale");
  if (clock && document.activeElement !== scale && !scale.dataset.touched) scale.value = clock.scale;
}

function clockText(seconds) {
  return new Date(seconds * 1000).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

function span(seconds) {
  const sign = seconds < 0 ? "-" : "+";
  let left = Math.abs(seconds);
  if (left < 60) return sign + left.toFixed(left < 10 ? 1 : 0) + "s";
  const parts = [];
  for (const [unit, size] of [["d", 86400], ["h", 3600], ["m", 60]]) {
    if (left >= size) {
      parts.push(Math.floor(left / size) + unit);
      left %= size;
    }
  }
  if (parts.length < 2 && left >= 1) parts.push(Math.floor(left) + "s");
  return sign + parts.slice(0, 2).join("");
}

// Sessions on the clock's timeline (S7): a bar from creation to the deadline, with the
// last activity, the idle deadline, the ttl bound and the turns' busy spans.
function drawSessions(tenant) {
  if (!tenant) return lists.sessions.set([]);
  const now = clockNow(tenant.clock, tenant.clockAt) || 0;
  const rows = [...tenant.sessions.values()].map((session) => ({ session, ended: null }));
  if ($("#show-ended").checked) {
    for (const [, ended] of tenant.ended) rows.push({ session: ended.session, ended });
  }
  rows.sort((a, b) => a.session.created_at - b.session.created_at);
  let start = now;
  let end = now;
  for (const { session, ended } of rows) {
    start = Math.min(start, session.created_at);
    end = Math.max(end, ended ? ended.at || session.deadline : session.deadline);
  }
  if (end - start < 60) end = start + 60;
  const busy = new Map();
  for (const turn of tenant.turns.values()) {
    if (turn.started === null) continue;
    if (!busy.has(turn.session)) busy.set(turn.session, []);
    busy.get(turn.session).push([turn.started, turn.ended === null ? now : turn.ended]);
  }
  lists.sessionAxis = { start, end, now, busy };
  $("#axis-start").textContent = span(start - now) + " (" + clockText(start) + ")";
  $("#axis-end").textContent = span(end - now);
  $("#axis-count").textContent = `${tenant.sessions.size} live, ${tenant.ended.size} ended · now ${clockText(now)}`;
  lists.sessions.set(rows);
}

function drawSessionRow({ session, ended }) {
  const { start, end, now, busy } = lists.sessionAxis;
  const x = (t) => (Math.min(Math.max(t, start), end) - start) / (end - start) * 100;
  const row = el("div", "session-row");
  row.dataset.session = session.id;
  row.dataset.status = ended ? (ended.reason === "deleted" ? "deleted" : "expired") : "live";
  const who = el("div", "who");
  who.append(el("span", "mono", session.id));
  who.append(el("span", "badge", session.persistent ? "persistent" : "idle 5m"));
  if (ended) who.append(el("span", "badge " + row.dataset.status, ended.reason));
  else if (session.busy) who.append(el("span", "badge busy", "busy"));
  row.append(who);
  const bar = el("div", "bar");
  const until = ended ? ended.at || session.deadline : Math.min(now, session.deadline);
  const piece = (cls, from, to, title) => {
    const part = el("span", cls);
    part.style.left = x(from) + "%";
    part.style.width = Math.max(0.15, x(to) - x(from)) + "%";
    part.title = title;
    bar.append(part);
  };
  const mark = (cls, t, title) => {
    if (t === null || t === undefined || t < start || t > end) return;
    const part = el("span", "mark " + cls);
    part.style.left = x(t) + "%";
    part.title = title;
    bar.append(part);
  };
  piece("life", session.created_at, until, "created " + clockText(session.created_at));
  if (!ended) piece("left", until, session.deadline, "deadline " + clockText(session.deadline) + " (" + session.expires_by + ")");
  for (const [from, to] of busy.get(session.id) || []) piece("busy", from, to, "busy " + clockText(from) + " → " + clockText(to));
  mark("activity", session.last_activity, "last activity " + clockText(session.last_activity));
  mark("idle", session.idle_deadline, "idle deadline " + clockText(session.idle_deadline || 0));
  mark("ttl", session.ttl_deadline, "ttl bound " + clockText(session.ttl_deadline || 0));
  mark("now", now, "now " + clockText(now));
  row.append(bar);
  return row;
}

function drawTurns(tenant) {
  const turns = tenant ? [...tenant.turns.values()].sort((a, b) => (a.started || 0) - (b.started || 0)) : [];
  lists.turns.set(turns);
  const turn = tenant && model.selectedTurn ? tenant.turns.get(model.selectedTurn) : null;
  const title = $("#turn-title");
  if (!turn) {
    title.textContent = turns.length ? "Pick a turn." : "No turn yet.";
    lists.events.set([]);
    return;
  }
  title.replaceChildren(
    el("span", "mono", turn.id), " on ", el("span", "mono", turn.session), " · ",
    el("span", "", turn.scenario || "?"), " · ", el("span", "badge " + turn.status, turn.status + (turn.error ? ": " + turn.error : "")),
    " · ", el("span", "", turn.events.length + " events"),
  );
  title.dataset.events = String(turn.events.length);
  title.dataset.status = turn.status;
  lists.eventsTurn = turn;
  lists.events.set(turn.events);
}

function drawTurnRow(turn) {
  const row = el("div", "turn-row clickable" + (turn.id === model.selectedTurn ? " selected" : ""));
  row.dataset.turn = turn.id;
  row.append(el("span", "mono cell", turn.id.slice(0, 16) + "…"));
  row.append(el("span", "badge " + turn.status, turn.status));
  row.append(el("span", "muted cell", (turn.scenario || "") + " · " + turn.events.length + " ev"));
  return row;
}

function drawEventRow(event) {
  const turn = lists.eventsTurn;
  const row = el("div", "event-row");
  row.dataset.seq = String(event.event_seq);
  row.append(el("span", "seq", event.event_seq));
  row.append(el("span", "at", turn && turn.started !== null ? span(event.at - turn.started) : ""));
  row.append(el("span", "type mono", event.type));
  if (!event.heard) row.append(el("span", "unheard", "not heard by a client"));
  return row;
}

function drawFiles(tenant) {
  const files = tenant ? tenant.files : [];
  const total = files.reduce((sum, file) => sum + file.size, 0);
  $("#files-title").textContent = `${files.length} files, ${total.toLocaleString()} bytes in the workspace (F1)`;
  lists.files.set(files);
}

function drawFileRow(file) {
  const row = el("div", "file-row");
  row.append(el("span", "mono cell", file.path));
  row.append(el("span", "muted", file.size.toLocaleString() + " B"));
  return row;
}

function drawFaults() {
  const body = $("#fault-table tbody");
  const rows = model.faults.map((rule) => {
    const row = el("tr", "fault-row");
    row.dataset.rule = rule.id;
    row.append(cell(rule.id, "mono"));
    row.append(cell(model.key ? model.keyTenant : rule.tenant === null ? "(every tenant)" : rule.tenant));
    row.append(cell(JSON.stringify(rule.match), "mono"));
    row.append(cell(JSON.stringify(rule.fault), "mono"));
    row.append(cell(rule.schedule === undefined ? "" : JSON.stringify(rule.schedule), "mono"));
    const hits = cell(rule.hits, "num hits");
    row.append(hits);
    row.append(cell(rule.matched, "num matched"));
    const remove = el("button", "", "Remove");
    remove.type = "button";
    remove.addEventListener("click", () => act(() => call("DELETE", "/_mock/faults/" + encodeURIComponent(rule.id))));
    const last = el("td");
    last.append(remove);
    row.append(last);
    return row;
  });
  if (!rows.length) {
    const row = el("tr");
    const empty = cell("No fault rules.", "muted");
    empty.colSpan = 8;
    row.append(empty);
    rows.push(row);
  }
  body.replaceChildren(...rows);
}

function cell(value, className) {
  const td = el("td", className || "");
  if (className && className.includes("mono")) td.replaceChildren(el("code", "", value));
  else td.textContent = value === null || value === undefined ? "" : String(value);
  return td;
}

// Usage and credits (U1, U2), drawn from whatever keys the server sends.
function drawUsage(tenant) {
  const box = $("#usage");
  if (!tenant || tenant.usage === null) return box.replaceChildren(el("p", "muted", "No usage yet."));
  box.replaceChildren(value(tenant.usage));
}

function value(v) {
  if (Array.isArray(v) && v.length && v.every((x) => x && typeof x === "object" && !Array.isArray(x))) {
    const keys = [...new Set(v.flatMap((x) => Object.keys(x)))];
    const table = el("table");
    const head = el("tr");
    for (const k of keys) head.append(el("th", "", k));
    table.append(head);
    for (const x of v) {
      const tr = el("tr");
      for (const k of keys) {
        const td = el("td", typeof x[k] === "number" ? "num" : "");
        td.append(value(x[k]));
        tr.append(td);
      }
      table.append(tr);
    }
    return table;
  }
  if (v && typeof v === "object" && !Array.isArray(v)) {
    const dl = el("dl");
    for (const [k, x] of Object.entries(v)) {
      dl.append(el("dt", "", k));
      const dd = el("dd");
      dd.append(value(x));
      dl.append(dd);
    }
    return dl;
  }
  if (typeof v === "number") return document.createTextNode(v.toLocaleString());
  return document.createTextNode(typeof v === "string" ? v : JSON.stringify(v));
}

function drawJournal(tenant) {
  const kind = $("#journal-kind").value;
  let entries;
  if ($("#journal-everyone").checked && !model.key) {
    entries = [model.server.journal, ...[...model.tenants.values()].map((t) => t.journal)].flat();
    entries.sort((a, b) => a.at_seq - b.at_seq);
  } else {
    entries = tenant ? tenant.journal : [];
  }
  if (kind) entries = entries.filter((e) => e.kind === kind || e.kind.split(".")[0] === kind);
  lists.journal.set(entries);
}

function drawJournalRow(entry) {
  const row = el("div", "journal-row");
  row.append(el("span", "muted place", entry.at_seq));
  row.append(el("span", "at", clockText(entry.at).slice(11)));
  row.append(el("span", "kind", entry.kind));
  if (entry.tenant !== undefined) row.append(el("span", "muted", entry.tenant === null ? "(server)" : entry.tenant));
  row.append(el("span", "mono cell", describe(entry)));
  return row;
}

function describe(entry) {
  switch (entry.kind) {
    case "request":
      return `${entry.method} ${entry.path} → ${entry.status === null ? "no answer" : entry.status}` +
        (entry.fault ? ` (fault ${entry.fault})` : "") + (entry.session ? ` [${entry.session}]` : "");
    case "event":
      return `${entry.response_id} #${entry.event_seq} ${entry.type}${entry.heard ? "" : " (not heard)"}`;
    default: {
      const rest = Object.assign({}, entry);
      for (const k of ["seq", "at_seq", "kind", "at", "tenant"]) delete rest[k];
      return JSON.stringify(rest);
    }
  }
}

// ---------------------------------------------------------------- steering

async function act(action) {
  try {
    await action();
    showError(null);
  } catch (error) {
    showError(error);
  }
  await refreshNow();
}

async function refreshNow() {
  try {
    await Promise.all([loadState(), loadFaults()]);
  } catch (error) {
    showError(error);
  }
}

// "90", "1.5", "5m", "1h30m", "2d": seconds of clock time.
function parseDuration(text) {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t);
  const match = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$/.exec(t);
  if (!t || !match) throw new Error(`advance by: '${t}' is not a duration (try 90, 5m, 1h30m)`);
  const [, d, h, m, s] = match;
  return (Number(d) || 0) * 86400 + (Number(h) || 0) * 3600 + (Number(m) || 0) * 60 + (Number(s) || 0);
}

function advance(seconds) {
  return act(() => call("POST", "/_mock/clock/advance", { seconds }));
}

function setKey(key) {
  model.key = key || null;
  if (model.key) sessionStorage.setItem(KEY_STORE, model.key);
  else sessionStorage.removeItem(KEY_STORE);
  restart();
}

function restart() {
  model.generation++;
  if (model.stream) model.stream.abort();
  model.tenants = new Map();
  model.server = { clock: null, clockAt: 0, journal: [] };
  model.faults = [];
  model.selected = null;
  model.selectedTurn = null;
  model.keyTenant = null;
  model.lastSeq = 0;
  $("#scope").textContent = model.key ? "one tenant (narrowed by its key)" : "all tenants";
  $("#journal-everyone").disabled = !!model.key;
  setLive("connecting", "connecting…");
  redraw();
  start(model.generation);
}

async function start(generation) {
  try {
    await loadState();
    await loadFaults();
  } catch (error) {
    if (generation !== model.generation) return;
    showError(error);
    setLive("error", "not connected");
    return;
  }
  if (generation === model.generation) follow();
}

function wire() {
  lists = {
    sessions: new Rows($("#session-list"), drawSessionRow),
    turns: new Rows($("#turn-list"), drawTurnRow),
    events: new Rows($("#event-list"), drawEventRow),
    files: new Rows($("#file-list"), drawFileRow),
    journal: new Rows($("#journal-list"), drawJournalRow),
    sessionAxis: null,
    eventsTurn: null,
  };
  lists.events.follow = true;
  lists.journal.follow = true;

  for (const tab of document.querySelectorAll("#tabs button")) {
    tab.addEventListener("click", () => {
      model.view = tab.dataset.view;
      for (const other of document.querySelectorAll("#tabs button")) other.classList.toggle("active", other === tab);
      for (const view of document.querySelectorAll(".view")) view.hidden = view.id !== "view-" + model.view;
      redraw();
    });
  }
  $("#tenant-list").addEventListener("click", (event) => {
    const button = event.target.closest("[data-tenant]");
    if (!button) return;
    model.selected = button.dataset.tenant;
    model.selectedTurn = null;
    redraw();
  });
  $("#turn-list").addEventListener("click", (event) => {
    const row = event.target.closest("[data-turn]");
    if (!row) return;
    model.selectedTurn = row.dataset.turn;
    const box = $("#event-list");
    box.scrollTop = 0;
    const tenant = model.tenants.get(model.selected);
    const turn = tenant && tenant.turns.get(model.selectedTurn);
    if (turn) loadHeard(turn);
    redraw();
  });
  $("#key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("#key");
    const key = input.value.trim();
    input.value = "";
    setKey(key);
  });
  $("#key-clear").addEventListener("click", () => setKey(null));
  $("#advance").addEventListener("click", () => {
    let seconds;
    try {
      seconds = parseDuration($("#advance-by").value);
    } catch (error) {
      return showError(error);
    }
    advance(seconds);
  });
  for (const button of document.querySelectorAll("[data-advance]")) {
    button.addEventListener("click", () => advance(Number(button.dataset.advance)));
  }
  for (const input of [$("#clock-mode"), $("#clock-scale")]) {
    input.addEventListener("input", () => (input.dataset.touched = "1"));
  }
  $("#clock-set").addEventListener("click", () => {
    const body = { mode: $("#clock-mode").value };
    const scale = Number($("#clock-scale").value);
    if ($("#clock-scale").value !== "" && scale > 0) body.scale = scale;
    delete $("#clock-mode").dataset.touched;
    delete $("#clock-scale").dataset.touched;
    act(() => call("PUT", "/_mock/clock", body));
  });
  $("#fault-form").addEventListener("submit", (event) => {
    event.preventDefault();
    let rule;
    try {
      rule = JSON.parse($("#fault-rule").value);
    } catch (error) {
      return showError(new Error("the rule is not JSON: " + error.message));
    }
    act(() => call("POST", "/_mock/faults", rule));
  });
  $("#faults-clear").addEventListener("click", () => act(() => call("DELETE", "/_mock/faults")));
  for (const id of ["#show-ended", "#journal-kind", "#journal-everyone"]) $(id).addEventListener("change", redraw);
  window.addEventListener("resize", redraw);
  // Real and scaled clocks move on their own: the timeline's "now" follows them.
  setInterval(() => {
    const [clock] = scopeClock();
    if (clock && clock.mode !== "virtual") redraw();
  }, 1000);
  // A reset is not journaled: look again now and then.
  setInterval(() => refreshSoon(), 5000);
}

function boot() {
  // A key given as ?key= is taken out of the address bar and kept for this tab only.
  const url = new URL(window.location.href);
  const given = url.searchParams.get("key");
  if (given !== null) {
    sessionStorage.setItem(KEY_STORE, given);
    url.searchParams.delete("key");
    history.replaceState(null, "", url.pathname + url.search + url.hash);
  }
  model.key = sessionStorage.getItem(KEY_STORE) || null;
  wire();
  restart();
}

boot();
