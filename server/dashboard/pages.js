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

// The ISO week ("2025-W03") of a date "YYYY-MM-DD".
function isoWeek(day) {
  const d = new Date(`${day}T00:00:00Z`);
  const thursday = new Date(d.getTime() + (3 - ((d.getUTCDay() + 6) % 7)) * 86400000);
  const jan1 = Date.UTC(thursday.getUTCFullYear(), 0, 1);
  const week = Math.floor((thursday.getTime() - jan1) / 86400000 / 7) + 1;
  return `${thursday.getUTCFullYear()}-W${String(week).padStart(2, "0")}`;
}

// The table of top crash and error signatures, with what fewer than k installations reported
// folded into one "other" row per kind. `prefix` names the numbers as the answer does
// ("crashes.top" and "crashes.other", or "topCrashes" and "otherCrashes").
function crashTable(target, note, top, other, k, prefix, otherPrefix, message) {
  const rows = top.map((c, i) => [
    c.kind, c.category || "–", c.component || "–", c.message || "–",
    { metric: `${prefix}.${i}.events`, value: c.events },
    { metric: `${prefix}.${i}.installationDays`, value: c.installationDays },
  ]);
  for (const kind of ["crash", "error"]) {
    if (other[kind]) {
      rows.push([kind, "other", "", `reported by fewer than ${k} installations a day`,
                 { metric: `${otherPrefix}.${kind}`, value: other[kind] }, "–"]);
    }
  }
  note.textContent = `(a message is shown once ${k} installations reported it on one day)`;
  table(target,
        [{ title: "Kind" }, { title: "Category" }, { title: "Component" }, { title: "Message", cls: "msg" },
         { title: "Events", num: true }, { title: "Installation-days", num: true }], rows, message);
}
