// Building DOM nodes without HTML strings: every piece of data goes in as text.

/** An element: h("a", {href: "#/"}, "text", child, [more]). */
export function h(tag, attrs = {}, ...children) {
  const svg = tag.startsWith("svg:");
  const el = svg
    ? document.createElementNS("http://www.w3.org/2000/svg", tag.slice(4))
    : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces the children of `el`. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A panel with a title and optional header extra. */
export function panel(title, extra, ...body) {
  return h("section", { class: "panel" }, h("header", {}, h("h2", {}, title), extra), ...body);
}

/**
 * A table; `cols` are [label, className], `rows` arrays of cells (a row may carry attrs).
 * With `stack`, each row becomes a labelled card when the panel is narrow (a phone).
 */
export function table(cols, rows, empty = "Nothing yet.", { stack = false } = {}) {
  if (!rows.length) return h("p", { class: "empty" }, empty);
  return h("div", { class: "table-wrap" },
    h("table", { class: stack ? "stackable" : undefined },
      h("thead", {}, h("tr", {}, cols.map(([label, cls]) => h("th", { class: cls }, label)))),
      h("tbody", {}, rows.map((r) => row(cols, r)))));
}

/** One table row; `r.attrs` become the row's attributes. */
export function row(cols, r) {
  return h("tr", r.attrs || {}, r.map((cell, i) => h("td", { class: cols[i][1], "data-label": cols[i][0] }, cell)));
}

/** A definition list of [term, value] pairs. */
export function kv(pairs) {
  return h("dl", { class: "kv" }, pairs.filter(Boolean).map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

/** A stat card. */
export function card(label, value, sub, id) {
  return h("div", { class: "panel card" },
    h("div", { class: "label" }, label),
    h("div", { class: "value", id }, value),
    h("div", { class: "sub" }, sub ?? ""));
}

/** A readable error panel. */
export function errorBox(message, code) {
  return h("div", { class: "error", role: "alert" },
    h("strong", {}, "Could not show this page. "), message, " ", code ? h("code", {}, code) : null,
    h("p", {}, h("a", { href: "#/" }, "Back to the explorer")));
}
