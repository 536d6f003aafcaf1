// The tenant's workspace (F1): every file's path and size.

import { $, el } from "./dom.js";
import { Rows } from "./rows.js";

let list = null;

export const view = {
  name: "files",

  wire() {
    list = new Rows($("#file-list"), drawRow);
  },

  draw(tenant) {
    const files = tenant ? tenant.files : [];
    const total = files.reduce((sum, file) => sum + file.size, 0);
    $("#files-title").textContent = `${files.length} files, ${total.toLocaleString()} bytes in the workspace (F1)`;
    list.set(files);
  },
};

function drawRow(file) {
  const row = el("div", "file-row");
  row.append(el("span", "mono cell", file.path));
  row.append(el("span", "muted", file.size.toLocaleString() + " B"));
  return row;
}
