// The clock (C1): the bar at the top of every view shows it and steers it (mode, scale,
// advance by "90", "5m", "1h30m" or a button); the clock view (#/clock) shows every clock
// in the page's scope and the moves the journal recorded. Without a key the bar acts on
// the server's clock (every tenant's), with one on that tenant's.

import { $, $$, clockText, el, span } from "./dom.js";
import { act, call, clockNow, model, scopeClock } from "./feed.js";
import { Rows } from "./rows.js";

let app = null;
let moves = null;

export const view = {
  name: "clock",

  wire(given) {
    app = given;
    moves = new Rows($("#clock-moves"), drawMove);
    moves.follow = true;
    $("#advance").addEventListener("click", () => {
      let seconds;
      try {
        seconds = parseDuration($("#advance-by").value);
      } catch (error) {
        return app.showError(error);
      }
      advance(seconds);
    });
    for (const button of $$("[data-advance]")) {
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
  },

  // The bar, drawn whatever the view.
  drawBar() {
    const [clock, at] = scopeClock();
    $("#clock-scope").textContent = model.key ? "tenant clock" : "server clock (every tenant)";
    const now = clockNow(clock, at);
    $("#clock-now").textContent = now === null ? "–" : clockText(now) + "  (" + describe(clock) + ")";
    const mode = $("#clock-mode");
    if (clock && document.activeElement !== mode && !mode.dataset.touched) mode.value = clock.mode;
    const scale = $("#clock-scale");
    if (clock && document.activeElement !== scale && !scale.dataset.touched) scale.value = clock.scale;
  },

  draw() {
    const [scope, scopeAt] = scopeClock();
    const base = clockNow(scope, scopeAt);
    const rows = [];
    const clocks = model.key ? [] : [["(server)", model.server.clock, model.server.clockAt]];
    for (const tenant of model.tenants.values()) clocks.push([tenant.id, tenant.clock, tenant.clockAt]);
    for (const [name, clock, at] of clocks) {
      const now = clockNow(clock, at);
      const row = el("tr", "clock-row");
      row.dataset.clock = name;
      row.append(el("td", "mono", name));
      row.append(el("td", "", clock ? clock.mode : "–"));
      row.append(el("td", "num", clock ? clock.scale : ""));
      row.append(el("td", "mono now", now === null ? "–" : clockText(now)));
      row.append(el("td", "num", now === null || base === null || model.key ? "" : span(now - base)));
      rows.push(row);
    }
    $("#clock-table tbody").replaceChildren(...rows);
    $("#clock-table th.ahead").textContent = model.key ? "" : "ahead of the server";
    const journals = model.key ? [] : [model.server.journal];
    for (const tenant of model.tenants.values()) journals.push(tenant.journal);
    const entries = journals.flatMap((journal) => journal.filter((entry) => entry.kind === "clock"));
    if (journals.length > 1) entries.sort((a, b) => a.at_seq - b.at_seq);
    $("#clock-moves-count").textContent = entries.length ? `${entries.length} ${entries.length === 1 ? "move" : "moves"}` : "No clock move yet.";
    moves.set(entries);
  },
};

function describe(clock) {
  return clock.mode + (clock.mode === "scaled" ? " ×" + clock.scale : "");
}

function drawMove(entry) {
  const row = el("div", "clock-move");
  row.append(el("span", "muted place", entry.at_seq));
  if (entry.tenant !== undefined) row.append(el("span", "muted", entry.tenant === null ? "(server)" : entry.tenant));
  else if (model.key) row.append(el("span", "muted", model.keyTenant));
  row.append(el("span", "kind", entry.action || "move"));
  row.append(el("span", "mono cell", `${clockText(entry.from)} → ${clockText(entry.to)} (${span(entry.to - entry.from)})`));
  row.append(el("span", "muted", describe(entry)));
  return row;
}

// "90", "1.5", "5m", "1h30m", "2d": seconds of clock time.
export function parseDuration(text) {
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
