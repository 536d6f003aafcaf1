// Small helpers every view shares: finding and making elements, clock times, JSON.
//
// Everything shown is put in the page as text, never as HTML: a path, a metadata value
// or a header can never run as code (the Content-Security-Policy is the second guard).

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

// A link inside the page: a URL fragment (see router.js), so it is a history entry.
export function link(href, text, className) {
  const a = el("a", className || "", text);
  a.href = href;
  return a;
}

// Clock seconds (epoch) as "2025-01-01 12:00:00Z".
export function clockText(seconds) {
  if (typeof seconds !== "number" || !Number.isFinite(seconds)) return "–";
  return new Date(seconds * 1000).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

// A signed stretch of clock time: "+4.2s", "-3m20s", "+3h59m".
export function span(seconds) {
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

export function jsonText(value) {
  const text = JSON.stringify(value, null, 2);
  return text === undefined ? String(value) : text;
}

// A JSON value as the page shows it: a list of like objects as a table, an object as a
// list of its keys, a number with its thousands marked, anything else as JSON text.
export function valueNode(v) {
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
        td.append(valueNode(x[k]));
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
      dd.append(valueNode(x));
      dl.append(dd);
    }
    return dl;
  }
  if (typeof v === "number") return document.createTextNode(v.toLocaleString());
  return document.createTextNode(typeof v === "string" ? v : JSON.stringify(v));
}

// A table cell; "mono" cells hold code.
export function cell(value, className) {
  const td = el("td", className || "");
  if (className && className.includes("mono")) td.replaceChildren(el("code", "", value));
  else td.textContent = value === null || value === undefined ? "" : String(value);
  return td;
}
