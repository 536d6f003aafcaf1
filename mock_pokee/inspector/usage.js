// Usage and credits (U1, U2), drawn from whatever keys the state's usage has: the body
// of GET /v1/usage with what the credits were debited (read from /_mock/state, not /v1).

import { $, el, valueNode } from "./dom.js";

export const view = {
  name: "usage",

  wire() {},

  draw(tenant) {
    const box = $("#usage");
    if (!tenant || tenant.usage === null) return box.replaceChildren(el("p", "muted", "No usage yet."));
    box.replaceChildren(valueNode(tenant.usage));
  },
};
