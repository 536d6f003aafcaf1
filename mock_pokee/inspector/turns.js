// Turns and stateless responses (POST /v1/responses, contract R), side by side, and one
// run's events (#/turns/<response id>, for either), streaming in as it runs: each event's
// seq, clock time since the start, type, whether a client heard it, and, opened with a
// click, its contents as JSON. A turn links to its session; a response has none.

import { $, el, jsonText, link, span } from "./dom.js";
import { feed, loadHeard } from "./feed.js";
import { Rows, openHeight } from "./rows.js";

let turnList = null;
let eventList = null;
let app = null;
let shownTurn = null; // the turn whose events the list holds

export const view = {
  name: "turns",

  wire(given) {
    app = given;
    turnList = new Rows($("#turn-list"), drawTurnRow);
    eventList = new Rows($("#event-list"), drawEventRow, (event) => event.event_seq);
    eventList.follow = true;
    $("#turn-list").addEventListener("click", (event) => {
      const row = event.target.closest("[data-turn]");
      if (row) app.go({ view: "turns", item: row.dataset.turn });
    });
    $("#event-list").addEventListener("click", (event) => {
      const line = event.target.closest(".line");
      const row = line && line.closest("[data-seq]");
      if (!row || !shownTurn) return;
      const item = shownTurn.events[Number(row.dataset.index)];
      if (item) eventList.toggle(item, openHeight(contentsText(item)));
    });
    // Whether its last events were heard is settled once the turn has ended.
    feed.addEventListener("entry", ({ detail: entry }) => {
      const ended = entry.kind === "turn.end" || entry.kind === "response.end";
      if (ended && shownTurn && entry.response_id === shownTurn.id) {
        const turn = shownTurn;
        setTimeout(() => loadHeard(turn), 300);
      }
    });
    feed.addEventListener("restart", () => {
      shownTurn = null;
    });
  },

  draw(tenant) {
    const turns = tenant ? [...tenant.turns.values()].sort((a, b) => (a.started || 0) - (b.started || 0)) : [];
    turnList.set(turns);
    const id = app.route.item;
    const turn = tenant && id ? tenant.turns.get(id) || null : null;
    if (turn !== shownTurn) {
      shownTurn = turn;
      eventList.closeAll();
      $("#event-list").scrollTop = 0;
      if (turn) loadHeard(turn);
    }
    drawTitle(turns, id, turn);
    eventList.set(turn ? turn.events : []);
  },
};

function drawTitle(turns, id, turn) {
  const title = $("#turn-title");
  if (!turn) {
    title.textContent = id ? `Turn ${id} is not in the view (another tenant's, or gone).` : turns.length ? "Pick a turn." : "No turn yet.";
    delete title.dataset.events;
    delete title.dataset.status;
    delete title.dataset.kind;
    return;
  }
  const where = turn.kind === "response"
    ? [" · ", el("span", "badge response", "stateless response")]
    : [" on ", link(app.href({ view: "sessions", item: turn.session }), turn.session, "mono session-link")];
  title.replaceChildren(
    el("span", "mono", turn.id), ...where, " · ",
    el("span", "", turn.scenario || "?"), " · ", el("span", "badge " + turn.status, turn.status + (turn.error ? ": " + turn.error : "")),
    " · ", el("span", "", turn.events.length + " events"),
  );
  title.dataset.kind = turn.kind;
  if (turn.started !== null) title.append(" · " + (turn.ended === null ? "running" : "took " + span(turn.ended - turn.started).slice(1)));
  const pending = turn.facts && turn.facts.pending_tool_calls;
  if (Array.isArray(pending) && pending.length) title.append(" · " + pending.length + " tool calls waiting");
  title.dataset.events = String(turn.events.length);
  title.dataset.status = turn.status;
}

function drawTurnRow(turn) {
  const row = el("div", "turn-row clickable" + (turn.kind === "response" ? " response-row" : "") + (turn.id === app.route.item ? " selected" : ""));
  row.dataset.turn = turn.id;
  row.dataset.kind = turn.kind;
  row.append(el("span", "mono cell", turn.id.slice(0, 16) + "…"));
  if (turn.kind === "response") row.append(el("span", "badge response", "response"));
  row.append(el("span", "badge " + turn.status, turn.status));
  row.append(el("span", "muted cell", (turn.scenario || "") + " · " + turn.events.length + " ev"));
  return row;
}

// What an opened event shows: its data when the journal carries it, else its entry.
function contents(event) {
  if (event.data !== undefined) return event.data;
  const shown = Object.assign({}, event);
  delete shown.at_seq;
  return shown;
}

function contentsText(event) {
  return jsonText(contents(event));
}

function drawEventRow(event, index, opened) {
  const turn = shownTurn;
  const row = el("div", "event-row opens");
  row.dataset.seq = String(event.event_seq);
  row.dataset.index = String(index);
  const line = el("div", "line clickable");
  line.title = opened ? "close" : "show its contents";
  line.append(el("span", "toggle", opened ? "▾" : "▸"));
  line.append(el("span", "seq", event.event_seq));
  line.append(el("span", "at", turn && turn.started !== null ? span(event.at - turn.started) : ""));
  line.append(el("span", "type mono", event.type));
  if (!event.heard) line.append(el("span", "unheard", "not heard by a client"));
  row.append(line);
  if (opened) row.append(el("pre", "more", contentsText(event)));
  return row;
}
