// Fault rules (C5): add one as JSON, remove one or all, watch `hits` and `matched` count.

import { $, cell, el } from "./dom.js";
import { act, call, model } from "./feed.js";

export const view = {
  name: "faults",

  wire(app) {
    $("#fault-form").addEventListener("submit", (event) => {
      event.preventDefault();
      let rule;
      try {
        rule = JSON.parse($("#fault-rule").value);
      } catch (error) {
        return app.showError(new Error("the rule is not JSON: " + error.message));
      }
      act(() => call("POST", "/_mock/faults", rule));
    });
    $("#faults-clear").addEventListener("click", () => act(() => call("DELETE", "/_mock/faults")));
    $("#fault-table tbody").addEventListener("click", (event) => {
      const button = event.target.closest("button[data-remove]");
      if (button) act(() => call("DELETE", "/_mock/faults/" + encodeURIComponent(button.dataset.remove)));
    });
  },

  draw() {
    const rows = model.faults.map((rule) => {
      const row = el("tr", "fault-row");
      row.dataset.rule = rule.id;
      row.append(cell(rule.id, "mono"));
      row.append(cell(model.key ? model.keyTenant : rule.tenant === null ? "(every tenant)" : rule.tenant));
      row.append(cell(JSON.stringify(rule.match), "mono"));
      row.append(cell(JSON.stringify(rule.fault), "mono"));
      row.append(cell(rule.schedule === undefined ? "" : JSON.stringify(rule.schedule), "mono"));
      row.append(cell(rule.hits, "num hits"));
      row.append(cell(rule.matched, "num matched"));
      const remove = el("button", "", "Remove");
      remove.type = "button";
      remove.dataset.remove = rule.id;
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
    $("#fault-table tbody").replaceChildren(...rows);
  },
};
