// The tenants the page sees (every one without a key, the key's own with one), each
// with its sessions, running turns, files and clock; a click shows that tenant.

import { $, clockText, el } from "./dom.js";
import { clockNow, model } from "./feed.js";

export function wire(app) {
  $("#tenant-list").addEventListener("click", (event) => {
    const button = event.target.closest("[data-tenant]");
    if (button) app.go({ view: app.route.view, item: null, params: app.paramsFor(app.route.view, button.dataset.tenant) });
  });
}

export function draw(selected) {
  const items = [];
  for (const tenant of model.tenants.values()) {
    const button = el("button", "tenant" + (tenant === selected ? " selected" : ""));
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
  $("#tenant-list").replaceChildren(...items);
}
