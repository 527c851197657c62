// The dashboard: fetches the stats API of this server and draws every chart as inline SVG.
// No library, nothing fetched from anywhere else. Every number shown carries data-metric (its
// place in the API's answer) and data-value (the exact number), so tests can compare them.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const COLORS = ["#7c3aed", "#0ea5e9", "#f59e0b", "#10b981", "#ef4444", "#6366f1", "#84cc16",
                "#ec4899", "#14b8a6", "#a3a3a3"];
const OS_COLORS = { linux: "#f59e0b", macos: "#6366f1", windows: "#0ea5e9", unknown: "#a3a3a3" };

function el(tag, attrs, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
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

// Horizontal bars: items [{name, value, metric, note}], largest first as given.
function barChart(target, items, color) {
  if (!items.length) return empty(target);
  const rowH = 26, labelW = 150, valueW = 90, width = 440;
  const max = Math.max(...items.map((i) => i.value), 1);
  const root = svg("svg", { viewBox: `0 0 ${width} ${items.length * rowH + 4}`, role: "img" });
  items.forEach((item, i) => {
    const y = i * rowH + 2;
    const w = Math.max(2, ((width - labelW - valueW) * item.value) / max);
    const label = item.name.length > 22 ? item.name.slice(0, 21) + "…" : item.name;
    root.append(svg("text", { x: labelW - 8, y: y + 16, "text-anchor": "end", class: "bar-label" }, label));
    const bar = svg("rect", { x: labelW, y: y + 3, width: w, height: rowH - 8, rx: 3, fill: item.color || color || COLORS[0] });
    bar.append(svg("title", {}, `${item.name}: ${fmt(item.value)}`));
    root.append(bar);
    const value = svg("text", { x: labelW + w + 6, y: y + 16, class: "bar-value" });
    metric(value, item.metric, item.value, item.note ? `${fmt(item.value)} ${item.note}` : fmt(item.value));
    root.append(value);
  });
  target.replaceChildren(root);
}

function sortedEntries(obj) {
  return Object.entries(obj || {}).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

// Stacked columns per day, one color per OS.
function installsChart(target, data) {
  const days = data.byDay || [];
  const oses = Object.keys(data.byOs || {}).sort();
  if (!data.total) return empty(target);
  const width = 1200, height = 260, left = 40, bottom = 24, top = 10;
  const step = Math.max(1, Math.ceil(Math.max(...days.map((d) => d.total), 1) / 4));
  const max = step * 4;
  const slot = (width - left) / days.length;
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img" });
  for (let g = 0; g <= 4; g++) {
    const v = step * g, y = height - bottom - ((height - bottom - top) * v) / max;
    root.append(svg("line", { x1: left, x2: width, y1: y, y2: y, stroke: "#eeeae4" }));
    root.append(svg("text", { x: left - 6, y: y + 4, "text-anchor": "end" }, String(v)));
  }
  days.forEach((d, i) => {
    let y = height - bottom;
    const x = left + i * slot + slot * 0.15;
    for (const os of oses) {
      const n = (d.byOs || {})[os] || 0;
      if (!n) continue;
      const h = ((height - bottom - top) * n) / max;
      y -= h;
      const r = svg("rect", { x, y, width: slot * 0.7, height: h, fill: OS_COLORS[os] || COLORS[oses.indexOf(os) % COLORS.length] });
      r.append(svg("title", {}, `${d.date} ${os}: ${n}`));
      root.append(r);
    }
    if (days.length <= 31 && (i % Math.ceil(days.length / 10) === 0 || i === days.length - 1)) {
      root.append(svg("text", { x: x + slot * 0.35, y: height - 6, "text-anchor": "middle" }, d.date.slice(5)));
    }
  });
  const legend = el("div", { class: "legend" });
  for (const os of oses) {
    const item = el("span");
    item.style.setProperty("--swatch", OS_COLORS[os] || COLORS[oses.indexOf(os) % COLORS.length]);
    item.append(`${os}: `);
    item.append(metric(el("b"), `installations.byOs.${os}`, data.byOs[os]));
    legend.append(item);
  }
  target.replaceChildren(root, legend);
}

function updatesChart(target, data) {
  if (!data.attempts) return empty(target, "No update attempts in this range yet.");
  const items = [
    { name: "succeeded", value: data.succeeded, metric: "updates.succeeded", color: "#15803d" },
    { name: "failed", value: data.failed, metric: "updates.failed", color: "#b91c1c" },
  ];
  for (const [name, n] of sortedEntries(data.byErrorCategory)) {
    items.push({ name: `failed: ${name}`, value: n, metric: `updates.byErrorCategory.${name}`, color: "#f87171" });
  }
  barChart(target, items);
  const rate = el("p", { class: "legend" });
  rate.append("Success rate ");
  rate.append(metric(el("b"), "updates.successRate.detail", data.successRate, pct(data.successRate)));
  rate.append(` of ${fmt(data.attempts)} attempts; average duration ${fmt(data.avgDurationMs)} ms`);
  target.append(rate);
}

function platformsChart(target, data) {
  const blocks = [["OS", "byOs"], ["Architecture", "byArch"], ["MCP client", "byMcpClient"], ["Node.js", "byNodeVersion"]];
  const wrap = el("div", { class: "platforms" });
  let any = false;
  for (const [title, key] of blocks) {
    const box = el("div");
    box.append(el("h3", {}, title));
    const list = el("ul");
    for (const [name, n] of sortedEntries(data.installations[key])) {
      any = true;
      const li = el("li", {}, `${name}: `);
      li.append(metric(el("b"), `platforms.installations.${key}.${name}`, n));
      list.append(li);
    }
    box.append(list);
    wrap.append(box);
  }
  if (!any) return empty(target);
  target.replaceChildren(wrap);
}

async function getJson(view, query) {
  const res = await fetch(`api/v1/stats/${view}?${query}`, { headers: { Accept: "application/json" } });
  if (!res.ok) throw new Error(`${view}: HTTP ${res.status}`);
  return res.json();
}

async function load() {
  const params = new URLSearchParams(location.search);
  const query = new URLSearchParams();
  for (const k of ["from", "to"]) if (params.get(k)) query.set(k, params.get(k));
  const status = document.getElementById("status");
  try {
    const [inst, plat, errs, upd, use] = await Promise.all(
      ["installations", "platforms", "errors", "updates", "usage"].map((v) => getJson(v, query)));
    document.getElementById("from").value = inst.from;
    document.getElementById("to").value = inst.to;
    metric(document.getElementById("tile-installs"), "installations.total", inst.total);
    metric(document.getElementById("tile-updates"), "updates.successRate", upd.successRate, pct(upd.successRate));
    document.getElementById("tile-updates-note").textContent = `${fmt(upd.attempts)} attempts`;
    metric(document.getElementById("tile-crashes"), "errors.crashes", errs.crashes);
    metric(document.getElementById("tile-errors"), "errors.errors", errs.errors);
    metric(document.getElementById("tile-summaries"), "usage.summaries", use.summaries);
    metric(document.getElementById("tile-startup"), "usage.avgStartupTimeMs", use.avgStartupTimeMs,
           use.avgStartupTimeMs === null ? "–" : `${fmt(use.avgStartupTimeMs)} ms`);

    installsChart(document.getElementById("chart-installs"), inst);
    barChart(document.getElementById("chart-versions"),
             sortedEntries(inst.byVersion).slice(0, 12).map(([name, n]) => ({ name, value: n, metric: `installations.byVersion.${name}` })),
             COLORS[5]);
    updatesChart(document.getElementById("chart-updates"), upd);
    barChart(document.getElementById("chart-error-categories"),
             errs.byCategory.map((c) => ({ name: c.name, value: c.count, metric: `errors.byCategory.${c.name}` })), COLORS[4]);
    barChart(document.getElementById("chart-error-components"),
             errs.byComponent.map((c) => ({ name: c.name, value: c.count, metric: `errors.byComponent.${c.name}` })), COLORS[2]);
    barChart(document.getElementById("chart-features"),
             use.features.slice().sort((a, b) => b.total - a.total).map((f) => ({
               name: f.name, value: f.total, metric: `usage.features.${f.name}.total`,
               note: `(avg ${fmt(f.average)})` })), COLORS[3]);
    platformsChart(document.getElementById("chart-platforms"), plat);
    status.textContent = `${inst.from} to ${inst.to} (UTC), aggregated daily; today's numbers include events not yet aggregated.`;
    document.body.dataset.ready = "true";
  } catch (e) {
    status.textContent = `Could not load the statistics: ${e.message}`;
    status.classList.add("error");
    document.body.dataset.ready = "error";
  }
}

document.getElementById("range").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const q = new URLSearchParams();
  for (const k of ["from", "to"]) {
    const v = document.getElementById(k).value;
    if (v) q.set(k, v);
  }
  history.replaceState(null, "", `?${q}`);
  load();
});
load();
