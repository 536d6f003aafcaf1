// Sessions on the clock's timeline (S7), and one session's detail (#/sessions/<id>):
// its record and every key of its metadata (M6), which a turn moves as it runs.
//
// The axis runs from the earliest shown session's creation past now towards the latest
// deadline, but never further ahead than twice the time already shown: a one-minute-old
// session fills a third of the axis instead of a 1/240th sliver of its four-hour ttl.
// Each row says when its deadline is, in words, wherever it falls.

import { $, clockText, el, jsonText, link, span } from "./dom.js";
import { clockNow } from "./feed.js";
import { Rows } from "./rows.js";

const MIN_SHOWN = 10; // seconds: the shortest past the axis shows
const AHEAD = 0.15; // of the time shown: room after now, so "now" is not on the edge
const MAX_AHEAD = 2; // of the time shown: how far towards a deadline the axis reaches

let list = null;
let axis = null;
let app = null;
let shownDetail = ""; // what the detail panel shows, so it is redrawn only on a change

export const view = {
  name: "sessions",

  wire(given) {
    app = given;
    list = new Rows($("#session-list"), drawRow);
    $("#session-list").addEventListener("click", (event) => {
      const row = event.target.closest("[data-session]");
      if (row) app.go({ view: "sessions", item: row.dataset.session });
    });
    $("#show-ended").addEventListener("change", () => app.schedule());
    $("#session-detail-close").addEventListener("click", () => app.go({ view: "sessions", item: null }));
  },

  draw(tenant) {
    drawTimeline(tenant);
    drawDetail(tenant);
  },
};

// The span of clock time the timeline shows (see the top of this module).
export function axisOf(rows, now) {
  let start = now;
  let deadline = now;
  for (const { session, ended } of rows) {
    start = Math.min(start, session.created_at);
    deadline = Math.max(deadline, ended ? ended.at || now : session.deadline);
  }
  const past = Math.max(now - start, MIN_SHOWN);
  start = now - past;
  const ahead = Math.min(Math.max(deadline - now, past * AHEAD), past * MAX_AHEAD);
  return { start, end: now + ahead };
}

function drawTimeline(tenant) {
  if (!tenant) {
    $("#axis-count").textContent = "";
    return list.set([]);
  }
  const now = clockNow(tenant.clock, tenant.clockAt) || 0;
  const rows = [...tenant.sessions.values()].map((session) => ({ session, ended: null }));
  if ($("#show-ended").checked) {
    for (const [, ended] of tenant.ended) rows.push({ session: ended.session, ended });
  }
  rows.sort((a, b) => a.session.created_at - b.session.created_at);
  const { start, end } = axisOf(rows, now);
  const busy = new Map();
  for (const turn of tenant.turns.values()) {
    if (turn.started === null) continue;
    if (!busy.has(turn.session)) busy.set(turn.session, []);
    busy.get(turn.session).push([turn.started, turn.ended === null ? now : turn.ended]);
  }
  axis = { start, end, now, busy, selected: app.route.item };
  $("#axis-start").textContent = span(start - now) + " (" + clockText(start) + ")";
  $("#axis-end").textContent = span(end - now);
  $("#axis-count").textContent = `${tenant.sessions.size} live, ${tenant.ended.size} ended · now ${clockText(now)}`;
  list.set(rows);
}

function drawRow({ session, ended }) {
  const { start, end, now, busy, selected } = axis;
  const x = (t) => ((Math.min(Math.max(t, start), end) - start) / (end - start)) * 100;
  const row = el("div", "session-row clickable" + (session.id === selected ? " selected" : ""));
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
  const when = ended
    ? ended.at === null ? "ended" : "ended " + span(ended.at - now)
    : session.expires_by + " " + span(session.deadline - now);
  row.append(el("span", "until muted", when));
  return row;
}

// ---------------------------------------------------------------- one session

function findSession(tenant, id) {
  if (!tenant || !id) return null;
  const live = tenant.sessions.get(id);
  if (live) return { session: live, ended: null };
  const ended = tenant.ended.get(id);
  return ended ? { session: ended.session, ended } : null;
}

const TIMES = new Set(["created_at", "last_activity", "deadline", "idle_deadline", "ttl_deadline"]);

function drawDetail(tenant) {
  const box = $("#session-detail");
  const id = app.route.item;
  box.hidden = !id;
  $("#view-sessions").classList.toggle("with-detail", !!id);
  if (!id) {
    shownDetail = "";
    return;
  }
  const found = findSession(tenant, id);
  const turns = tenant ? [...tenant.turns.values()].filter((t) => t.session === id) : [];
  const seen = jsonText([id, found, turns.map((t) => [t.id, t.status, t.events.length]), tenant && tenant.id]);
  if (seen === shownDetail) return;
  shownDetail = seen;
  const body = $("#session-detail-body");
  $("#session-detail-title").textContent = id;
  if (!found) {
    body.replaceChildren(el("p", "muted", "This session is not in the view: it may have ended before the page opened, or be another tenant's."));
    box.dataset.status = "unknown";
    return;
  }
  const { session, ended } = found;
  box.dataset.status = ended ? "ended" : "live";
  const parts = [];
  const state = el("p");
  state.append(el("span", "badge " + (ended ? "expired" : session.busy ? "busy" : ""), ended ? ended.reason : session.busy ? "busy" : "live"));
  if (ended) state.append(" · " + (ended.at === null ? "ended" : "ended at " + clockText(ended.at)) + " · as last seen");
  parts.push(state);

  parts.push(el("h3", "", "Metadata"));
  const keys = Object.keys(session.metadata || {});
  if (!keys.length) parts.push(el("p", "muted", "No metadata."));
  else {
    const dl = el("dl", "metadata");
    dl.id = "session-metadata";
    for (const key of keys.sort()) {
      const value = session.metadata[key];
      dl.append(el("dt", "mono", key));
      const dd = el("dd", "mono");
      dd.dataset.meta = key;
      if (typeof value === "string") dd.textContent = value;
      else dd.append(el("pre", "json", jsonText(value)));
      dl.append(dd);
    }
    parts.push(dl);
  }

  parts.push(el("h3", "", "Record"));
  const record = el("dl", "record");
  for (const [key, value] of Object.entries(session)) {
    if (key === "metadata" || key === "id") continue;
    record.append(el("dt", "", key));
    const dd = el("dd", "mono");
    dd.dataset.field = key;
    if (TIMES.has(key) && typeof value === "number") dd.textContent = clockText(value);
    else dd.textContent = typeof value === "string" ? value : JSON.stringify(value);
    record.append(dd);
  }
  parts.push(record);

  parts.push(el("h3", "", "Turns"));
  if (!turns.length) parts.push(el("p", "muted", "No turn yet."));
  else {
    const ul = el("ul", "turn-links");
    for (const turn of turns) {
      const li = el("li");
      li.append(link(app.href({ view: "turns", item: turn.id }), turn.id, "mono"));
      li.append(" ", el("span", "badge " + turn.status, turn.status), " " + (turn.scenario || ""));
      ul.append(li);
    }
    parts.push(ul);
  }
  const journal = link(app.href({ view: "journal", params: { session: id } }), "This session in the journal");
  journal.id = "session-journal-link";
  const more = el("p");
  more.append(journal);
  parts.push(more);
  body.replaceChildren(...parts);
}
