// The journal (C4), filtered (#/journal?kind=&method=&path=&session=&status=&everyone=1).
//
// Kind, method, path (a glob, as the API's ?path=) and session are the API's own
// filters: with any of them the list is GET /_mock/journal's answer, read again (from
// where it left off, at most every 400 ms) while entries come in, so a glob means here
// exactly what it means to the mock. Status is filtered in the page: "404", "4xx",
// "429,5xx" or "none" (no answer) keep only requests. With no filter the list is the
// entries the page follows. A row opens, with a click, to show the entry as JSON.

import { $, clockText, el, jsonText } from "./dom.js";
import { REFRESH_MS, feed, model, readJournal } from "./feed.js";
import { Rows, openHeight } from "./rows.js";

const KEEP = 20000; // entries of a filtered read the page keeps
const SERVER = ["kind", "method", "path", "session"]; // filters the API applies
const INPUTS = { kind: "#journal-kind", method: "#journal-method", path: "#journal-path", session: "#journal-session", status: "#journal-status" };

let app = null;
let list = null;
let filters = {}; // the route's filters
let remote = fresh(null);
let typing = null; // the timer that applies a filter being typed

function fresh(query) {
  return { query, entries: [], bySeq: new Map(), last: null, error: null, loading: false, again: false, stale: false, timer: null };
}

export const view = {
  name: "journal",

  wire(given) {
    app = given;
    list = new Rows($("#journal-list"), drawRow, (entry) => entry.at_seq);
    list.follow = true;
    $("#journal-list").addEventListener("click", (event) => {
      const line = event.target.closest(".line");
      const row = line && line.closest("[data-index]");
      if (!row) return;
      const entry = list.items[Number(row.dataset.index)];
      if (entry) list.toggle(entry, openHeight(contentsText(entry)));
    });
    for (const [name, selector] of Object.entries(INPUTS)) {
      const input = $(selector);
      input.addEventListener("change", apply);
      if (name !== "kind") {
        input.addEventListener("input", () => {
          clearTimeout(typing);
          typing = setTimeout(apply, 300);
        });
      }
    }
    $("#journal-everyone").addEventListener("change", apply);
    $("#journal-filters").addEventListener("submit", (event) => {
      event.preventDefault();
      apply();
    });
    feed.addEventListener("entry", ({ detail: entry }) => {
      if (!remote.query) return;
      const kept = remote.bySeq.get(entry.at_seq);
      if (kept) Object.assign(kept, entry); // a request's answer has started since
      if (app.route.view === "journal") readSoon();
      else remote.stale = true;
    });
    feed.addEventListener("restart", () => {
      remote = fresh(null);
      list.closeAll();
      $("#journal-everyone").disabled = !!model.key;
      $("#journal-gap").textContent = "";
    });
    feed.addEventListener("gap", () => {
      $("#journal-gap").textContent = "some entries were dropped for room before they could be shown";
    });
  },

  // The filters of the route, put in the inputs (unless one is being typed in).
  fromRoute(route) {
    filters = {};
    for (const name of [...Object.keys(INPUTS), "everyone"]) {
      if (route.params[name]) filters[name] = route.params[name];
    }
    for (const [name, selector] of Object.entries(INPUTS)) {
      const input = $(selector);
      if (document.activeElement !== input) input.value = filters[name] || "";
    }
    $("#journal-everyone").checked = filters.everyone === "1";
  },

  // The route's params that are this view's, for the tab's link.
  params() {
    return Object.assign({}, filters);
  },

  draw(tenant) {
    let test = null;
    let note = "";
    let problem = false;
    try {
      test = statusTest(filters.status || "");
    } catch (error) {
      note = error.message;
      problem = true;
    }
    const everyone = filters.everyone === "1" && !model.key;
    const query = serverQuery();
    let entries;
    if (query) {
      if (remote.query !== query) {
        remote = fresh(query);
        list.closeAll();
        read();
      } else if (remote.stale) {
        remote.stale = false;
        readSoon();
      }
      entries = remote.entries;
      if (!model.key && !everyone) entries = entries.filter((e) => tenant && e.tenant === tenant.id);
      if (remote.error) {
        note = remote.error;
        problem = true;
      } else if (!note) {
        const named = SERVER.filter((name) => filters[name]).map((name) => `${name} ${filters[name]}`);
        note = remote.loading && !remote.entries.length ? "reading the journal…" : "filtered by the mock: " + named.join(" · ");
      }
    } else if (everyone) {
      entries = [model.server.journal, ...[...model.tenants.values()].map((t) => t.journal)].flat();
      entries.sort((a, b) => a.at_seq - b.at_seq);
    } else {
      entries = tenant ? tenant.journal : [];
    }
    if (test) entries = entries.filter(test);
    const shown = $("#journal-note");
    shown.textContent = note;
    shown.classList.toggle("problem", problem);
    $("#journal-count").textContent = entries.length.toLocaleString() + (entries.length === 1 ? " entry" : " entries");
    list.set(entries);
  },
};

function apply() {
  clearTimeout(typing);
  const params = {};
  for (const [name, selector] of Object.entries(INPUTS)) {
    const value = $(selector).value.trim();
    if (value) params[name] = value;
  }
  if ($("#journal-everyone").checked) params.everyone = "1";
  app.go({ view: "journal", params }, true);
}

function serverQuery() {
  const given = SERVER.filter((name) => filters[name]).map((name) => [name, filters[name]]);
  return given.length ? new URLSearchParams(given).toString() : "";
}

function readSoon() {
  if (remote.timer !== null) return;
  const reading = remote;
  reading.timer = setTimeout(() => {
    reading.timer = null;
    if (reading === remote) read();
  }, REFRESH_MS);
}

// Read what is new of the filtered journal (all of it the first time).
async function read() {
  const reading = remote;
  if (reading.loading) {
    reading.again = true;
    return;
  }
  reading.loading = true;
  try {
    const asked = Object.fromEntries(new URLSearchParams(reading.query));
    if (reading.last !== null) asked.since = reading.last;
    const { answer, current } = await readJournal(asked);
    if (!current || reading !== remote) return;
    for (const entry of answer.entries) {
      entry.at_seq = entry.seq;
      reading.entries.push(entry);
      reading.bySeq.set(entry.seq, entry);
    }
    if (reading.entries.length > KEEP * 1.1) {
      for (const gone of reading.entries.splice(0, reading.entries.length - KEEP)) reading.bySeq.delete(gone.seq);
    }
    if (answer.last !== null) reading.last = answer.last;
    reading.error = null;
  } catch (error) {
    reading.error = error.answer || error.message;
  } finally {
    reading.loading = false;
    if (reading.again && reading === remote) {
      reading.again = false;
      read();
    }
    app.schedule();
  }
}

// "404", "4xx", "429, 5xx", "none": a test of request entries, or null for no filter.
export function statusTest(text) {
  const tokens = text.split(",").map((t) => t.trim().toLowerCase()).filter(Boolean);
  if (!tokens.length) return null;
  const tests = tokens.map((token) => {
    if (/^[1-5]\d\d$/.test(token)) return (status) => status === Number(token);
    if (/^[1-5]xx$/.test(token)) return (status) => status !== null && Math.floor(status / 100) === Number(token[0]);
    if (token === "none") return (status) => status === null;
    throw new Error(`status: '${token.slice(0, 20)}' is not a status; try 404, 4xx, 429,5xx or none`);
  });
  return (entry) => entry.kind === "request" && tests.some((test) => test(entry.status === undefined ? null : entry.status));
}

function contentsText(entry) {
  const shown = Object.assign({}, entry);
  delete shown.at_seq;
  return jsonText(shown);
}

function drawRow(entry, index, opened) {
  const row = el("div", "journal-row opens");
  row.dataset.index = String(index);
  row.dataset.kind = entry.kind;
  if (entry.kind === "request") row.dataset.status = String(entry.status);
  const line = el("div", "line clickable");
  line.append(el("span", "toggle", opened ? "▾" : "▸"));
  line.append(el("span", "muted place", entry.at_seq));
  line.append(el("span", "at", clockText(entry.at).slice(11)));
  line.append(el("span", "kind", entry.kind));
  if (entry.tenant !== undefined) line.append(el("span", "muted", entry.tenant === null ? "(server)" : entry.tenant));
  line.append(el("span", "mono cell", describe(entry)));
  row.append(line);
  if (opened) row.append(el("pre", "more", contentsText(entry)));
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
