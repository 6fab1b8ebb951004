/* The console's small page helpers: elements by id, errors, announcements, toasts. */

import { el } from "../client/shared.js";

export function $(id) {
  return document.getElementById(id);
}

export function text(id, value) {
  $(id).textContent = value;
}

export function showError(id, message) {
  const node = $(id);
  node.textContent = message;
  node.hidden = !message;
}

// A short notice in the corner for things that happen elsewhere (an approval, a transfer).
export function toast(message, kind) {
  const box = $("toasts");
  const item = el("div", "toast" + (kind ? " toast-" + kind : ""), message);
  item.title = "Click to dismiss";
  item.addEventListener("click", () => item.remove());
  box.appendChild(item);
  while (box.children.length > 3) box.firstChild.remove();
  setTimeout(() => item.classList.add("toast-out"), 7000);
  setTimeout(() => item.remove(), 7400);
}

// Said by screen readers: emptied first, so the same words twice are said twice.
export function announce(message) {
  const node = $("announcer");
  node.textContent = "";
  setTimeout(() => { node.textContent = message; }, 50);
}

export function shortId(id) {
  return String(id).slice(0, 8);
}

// a's fields with b's over them, b's undefined ones left out.
export function merge(a, b) {
  const out = {};
  Object.keys(a).forEach((k) => { out[k] = a[k]; });
  Object.keys(b).forEach((k) => { if (b[k] !== undefined) out[k] = b[k]; });
  return out;
}

// A data table in its scrolling wrapper: a column head (th scope=col) for each of
// columns, a string or {text, className}, and an empty tbody for the rows; a caption
// first when given, for a table no heading names.
export function dataTable(columns, caption) {
  const table = el("table", "data-table");
  if (caption) table.appendChild(el("caption", "sr-only", caption));
  const head = el("tr");
  columns.forEach((c) => {
    const th = el("th", typeof c === "string" ? null : c.className || null, typeof c === "string" ? c : c.text);
    th.scope = "col";
    head.appendChild(th);
  });
  const thead = el("thead");
  thead.appendChild(head);
  table.appendChild(thead);
  const body = el("tbody");
  table.appendChild(body);
  const wrap = el("div", "table-wrap");
  wrap.appendChild(table);
  return { wrap, table, head, body };
}
