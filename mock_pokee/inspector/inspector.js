// mock-pokee inspector: shows and steers the mock through its control plane (/_mock).
//
// A few plain ES modules served by the mock itself, no build step, nothing from
// elsewhere: this one starts the page and keeps it in step with its address; feed.js
// follows the mock; one module per view draws it (sessions, turns, files, faults,
// usage, journal, clock); dom.js, rows.js and router.js are shared helpers. Each view
// has its own URL fragment (router.js), so a link or a screenshot's address shows what
// it showed. A key is kept in this tab's sessionStorage and never shown or put in the
// address; the page never calls /v1.

import { $, $$ } from "./dom.js";
import { feed, model, ownerOf, refreshSoon, restart, scopeClock, setKey, takeKey } from "./feed.js";
import * as router from "./router.js";
import * as tenants from "./tenants.js";
import { view as sessions } from "./sessions.js";
import { view as turns } from "./turns.js";
import { view as files } from "./files.js";
import { view as faults } from "./faults.js";
import { view as usage } from "./usage.js";
import { view as journal } from "./journal.js";
import { view as clock } from "./clock.js";

const VIEWS = new Map([sessions, turns, files, faults, usage, journal, clock].map((v) => [v.name, v]));

// What the views are given: where the page is, and how to go elsewhere.
const app = {
  route: router.parse(""),
  chosen: null, // the tenant last named by the address (keyless view)
  lastItem: new Map(), // view -> the session or turn it last showed, for its tab
  go,
  href,
  paramsFor,
  schedule,
  showError,
};

// ---------------------------------------------------------------- the address

// The tenant the views show: the key's; without a key, the one the shown item belongs
// to, else the one the address names, else the first.
function shownTenant() {
  if (model.key) return model.tenants.get(model.keyTenant) || model.tenants.values().next().value || null;
  const { view, item, params } = app.route;
  const owner = item ? ownerOf(view, item) : null;
  if (owner) return owner;
  for (const id of [params.tenant, app.chosen]) {
    if (id && model.tenants.has(id)) return model.tenants.get(id);
  }
  return model.tenants.values().next().value || null;
}

// A view's params: its own (the journal's filters) and, keyless, the tenant shown.
function paramsFor(view, tenantId) {
  const params = view === "journal" ? journal.params() : {};
  if (!model.key && tenantId) params.tenant = tenantId;
  return params;
}

function complete(route) {
  const params = Object.assign({}, route.params || {});
  if (model.key) delete params.tenant;
  else if (!route.item && !params.tenant) {
    const tenant = shownTenant();
    if (tenant) params.tenant = tenant.id;
  }
  return { view: route.view, item: route.item || null, params };
}

function href(route) {
  return router.format(complete(route));
}

function go(route, replace) {
  const target = complete(route);
  const moved = router.go(target, replace);
  if (replace || !moved) applyRoute(router.parse(router.format(target)));
  // else the hashchange listener applies it
}

function applyRoute(route) {
  if (route.params.key !== undefined) {
    // A key given in the fragment is taken out of the address like ?key= is.
    const key = route.params.key;
    delete route.params.key;
    history.replaceState(null, "", window.location.pathname + window.location.search + router.format(route));
    setKey(key);
  }
  app.route = route;
  if (route.params.tenant) app.chosen = route.params.tenant;
  if (route.item) app.lastItem.set(route.view, route.item);
  else if (route.view === "sessions" || route.view === "turns") app.lastItem.delete(route.view);
  for (const tab of $$("#tabs [data-view]")) {
    const active = tab.dataset.view === route.view;
    tab.classList.toggle("active", active);
    if (active) tab.setAttribute("aria-current", "page");
    else tab.removeAttribute("aria-current");
  }
  for (const box of $$(".view")) box.hidden = box.id !== "view-" + route.view;
  if (route.view === "journal") journal.fromRoute(route);
  document.title = "mock-pokee inspector · " + route.view + (route.item ? " " + route.item : "");
  schedule();
}

// ---------------------------------------------------------------- drawing

let drawPending = false;

function schedule() {
  if (drawPending) return;
  drawPending = true;
  requestAnimationFrame(() => {
    drawPending = false;
    draw();
  });
}

function draw() {
  const tenant = shownTenant();
  tenants.draw(tenant);
  clock.drawBar();
  $("#tenant-title").textContent = tenant ? "tenant " + tenant.id : "no tenant yet";
  for (const tab of $$("#tabs [data-view]")) {
    const view = tab.dataset.view;
    const item = view === app.route.view ? null : app.lastItem.get(view) || null;
    tab.href = href({ view, item, params: item ? {} : paramsFor(view, tenant && tenant.id) });
  }
  VIEWS.get(app.route.view).draw(tenant);
}

function showError(error) {
  const box = $("#error");
  box.hidden = !error;
  box.textContent = error ? String(error.message || error) : "";
}

function setLive({ state, text }) {
  const live = $("#live");
  live.dataset.state = state;
  live.textContent = text;
}

// ---------------------------------------------------------------- starting

function wire() {
  for (const view of VIEWS.values()) view.wire(app);
  tenants.wire(app);
  feed.addEventListener("change", schedule);
  feed.addEventListener("error", ({ detail }) => showError(detail));
  feed.addEventListener("live", ({ detail }) => setLive(detail));
  feed.addEventListener("restart", () => {
    app.lastItem.clear();
    $("#scope").textContent = model.key ? "one tenant (narrowed by its key)" : "all tenants";
  });
  window.addEventListener("hashchange", () => applyRoute(router.current()));
  $("#key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("#key");
    const key = input.value.trim();
    input.value = "";
    setKey(key);
  });
  $("#key-clear").addEventListener("click", () => setKey(null));
  window.addEventListener("resize", schedule);
  // Real and scaled clocks move on their own: the timeline's "now" follows them.
  setInterval(() => {
    const [shown] = scopeClock();
    if (shown && shown.mode !== "virtual" && shown.mode !== "autojump") schedule();
  }, 1000);
  // A reset is not journaled: look again now and then.
  setInterval(() => refreshSoon(), 5000);
}

function boot() {
  // A key given as ?key= (or in the fragment) is taken out of the address bar and kept
  // for this tab only.
  const url = new URL(window.location.href);
  const route = router.parse(url.hash);
  const given = route.params.key !== undefined ? route.params.key : url.searchParams.get("key");
  if (given !== null) {
    url.searchParams.delete("key");
    delete route.params.key;
    history.replaceState(null, "", url.pathname + url.search + (url.hash ? router.format(route) : ""));
  }
  takeKey(given);
  wire();
  applyRoute(router.current());
  restart();
}

boot();
