// Where the page is: the URL fragment names the view and, for sessions and turns, one
// item, so a link or a screenshot's address opens the same view.
//
//   #/sessions              #/sessions/<session id>
//   #/turns                 #/turns/<response id>
//   #/journal?kind=request&method=GET&path=/v1/**&session=<id>&status=4xx&everyone=1
//   #/files  #/faults  #/usage  #/clock
//
// `?tenant=<id>` picks the tenant in the keyless view. A key never goes in the address:
// the page takes a `?key=` out of it at once and keeps the key in this tab only.

export const VIEWS = ["sessions", "turns", "files", "faults", "usage", "journal", "clock"];
const WITH_ITEM = new Set(["sessions", "turns"]);

function decoded(text) {
  try {
    return decodeURIComponent(text);
  } catch (_) {
    return text;
  }
}

// "#/turns/resp_1?tenant=acme" -> {view: "turns", item: "resp_1", params: {tenant: "acme"}}
export function parse(hash) {
  const text = hash.startsWith("#") ? hash.slice(1) : hash;
  const mark = text.indexOf("?");
  const path = mark < 0 ? text : text.slice(0, mark);
  const query = mark < 0 ? "" : text.slice(mark + 1);
  const parts = path.split("/").filter(Boolean).map(decoded);
  const view = VIEWS.includes(parts[0]) ? parts[0] : "sessions";
  const item = WITH_ITEM.has(view) && parts[1] ? parts[1] : null;
  const params = {};
  for (const [name, value] of new URLSearchParams(query)) params[name] = value;
  return { view, item, params };
}

export function format({ view, item, params }) {
  let text = "#/" + view;
  if (item) text += "/" + encodeURIComponent(item);
  const given = Object.entries(params || {}).filter(([, v]) => v !== "" && v !== null && v !== undefined);
  if (given.length) text += "?" + given.map(([name, value]) => readable(name) + "=" + readable(value)).join("&");
  return text;
}

// Escaped for a query, but with the slashes and commas of paths and lists left as they
// are ("path=/v1/sessions/*", not "path=%2Fv1%2Fsessions%2F*"): a fragment may hold them.
function readable(text) {
  return encodeURIComponent(String(text)).replace(/%2F/g, "/").replace(/%2C/g, ",");
}

// Go to `route`: a new history entry (back and forward follow it) that the hashchange
// listener applies, or, with `replace`, the same entry rewritten (typing in a filter).
export function go(route, replace) {
  const hash = format(route);
  if (hash === window.location.hash) return false;
  if (replace) {
    history.replaceState(null, "", window.location.pathname + window.location.search + hash);
  } else {
    window.location.hash = hash;
  }
  return true;
}

export function current() {
  return parse(window.location.hash);
}
