// What the dashboard and the weekly report page share: building elements, number formats,
// numbers that carry data-metric (their place in the API's answer) and data-value (the exact
// number) so tests can compare them, tables, and the stats token kept in the tab's session.
"use strict";

const STATS_TOKEN_KEY = "dollhouse-stats-token";

// Request headers for this server's API: JSON, and the bearer token when one was given.
function apiHeaders() {
  const headers = { Accept: "application/json" };
  const token = sessionStorage.getItem(STATS_TOKEN_KEY);
  if (token) headers.Authorization = `Bearer ${token}`;
  return headers;
}

function el(tag, attrs, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function fmt(n) {
  if (n === null || n === undefined) return "–";
  return Number.isInteger(n) ? n.toLocaleString("en-US") : n.toLocaleString("en-US", { maximumFractionDigits: 1 });
}

function pct(r) { return r === null || r === undefined ? "–" : (Math.round(r * 1000) / 10) + "%"; }

function metric(node, name, value, text) {
  node.dataset.metric = name;
  node.dataset.value = value === null || value === undefined ? "" : String(value);
  node.textContent = text === undefined ? fmt(value) : text;
  return node;
}

function empty(target, message) {
  target.replaceChildren(el("p", { class: "empty" }, message || "No data in this range yet."));
}

// A table: columns [{title, num}], rows of cells [{text, metric, value}] or plain strings.
function table(target, columns, rows, message) {
  if (!rows.length) return empty(target, message);
  const t = el("table", { class: "data" });
  const head = el("tr");
  for (const c of columns) head.append(el("th", c.num ? { class: "num" } : {}, c.title));
  const thead = el("thead");
  thead.append(head);
  t.append(thead);
  const body = el("tbody");
  for (const row of rows) {
    const tr = el("tr");
    row.forEach((cell, i) => {
      const td = el("td", { class: columns[i].num ? "num" : columns[i].cls || "" });
      if (cell && typeof cell === "object") metric(td, cell.metric, cell.value, cell.text);
      else td.textContent = cell === null || cell === undefined ? "–" : String(cell);
      tr.append(td);
    });
    body.append(tr);
  }
  t.append(body);
  const wrap = el("div", { class: "table-wrap" });
  wrap.append(t);
  target.replaceChildren(wrap);
}
