// The dashboard: fetches the stats API of this server and draws every chart as inline SVG, with
// the helpers of pages.js. No library, nothing fetched from anywhere else.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const COLORS = ["#7c3aed", "#0ea5e9", "#f59e0b", "#10b981", "#ef4444", "#6366f1", "#84cc16",
                "#ec4899", "#14b8a6", "#a3a3a3"];
const OS_COLORS = { linux: "#f59e0b", macos: "#6366f1", windows: "#0ea5e9", unknown: "#a3a3a3" };

function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
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

// Columns per day: series [{key, name, color}] stacked; optional line [0..1] on a right axis.
function dailyColumns(target, byDay, series, line) {
  const total = (d) => series.reduce((sum, s) => sum + (d[s.key] || 0), 0);
  if (!byDay.length || !byDay.some((d) => total(d) > 0)) return empty(target);
  const width = 1200, height = 240, left = 40, right = line ? 44 : 8, bottom = 24, top = 10;
  const step = Math.max(1, Math.ceil(Math.max(...byDay.map(total), 1) / 4));
  const max = step * 4, plotH = height - bottom - top;
  const slot = (width - left - right) / byDay.length;
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img" });
  for (let g = 0; g <= 4; g++) {
    const y = height - bottom - (plotH * g) / 4;
    root.append(svg("line", { x1: left, x2: width - right, y1: y, y2: y, stroke: "#eeeae4" }));
    root.append(svg("text", { x: left - 6, y: y + 4, "text-anchor": "end" }, String(step * g)));
    if (line) root.append(svg("text", { x: width - right + 4, y: y + 4 }, `${g * 25}%`));
  }
  const points = [];
  byDay.forEach((d, i) => {
    let y = height - bottom;
    const x = left + i * slot + slot * 0.15;
    for (const s of series) {
      const n = d[s.key] || 0;
      if (!n) continue;
      const h = (plotH * n) / max;
      y -= h;
      const r = svg("rect", { x, y, width: slot * 0.7, height: h, fill: s.color });
      r.append(svg("title", {}, `${d.date} ${s.name}: ${n}`));
      root.append(r);
    }
    if (line && d[line.key] !== null && d[line.key] !== undefined) {
      points.push(`${x + slot * 0.35},${height - bottom - plotH * d[line.key]}`);
    }
    if (i % Math.ceil(byDay.length / 10) === 0 || i === byDay.length - 1) {
      root.append(svg("text", { x: x + slot * 0.35, y: height - 6, "text-anchor": "middle" }, d.date.slice(5)));
    }
  });
  if (line && points.length) {
    root.append(svg("polyline", { points: points.join(" "), fill: "none", stroke: line.color, "stroke-width": 2 }));
  }
  const legend = el("div", { class: "legend" });
  for (const s of series) {
    const item = el("span");
    item.style.setProperty("--swatch", s.color);
    item.append(`${s.name}: `);
    item.append(metric(el("b"), s.metric, byDay.reduce((sum, d) => sum + (d[s.key] || 0), 0)));
    legend.append(item);
  }
  if (line) {
    const item = el("span");
    item.style.setProperty("--swatch", line.color);
    item.append(line.name);
    legend.append(item);
  }
  target.replaceChildren(root, legend);
}

function crashSection(crashes) {
  dailyColumns(document.getElementById("chart-crashes-daily"), crashes.byDay, [
    { key: "crashes", name: "crashes", color: "#b91c1c", metric: "crashes.crashes" },
    { key: "errors", name: "handled errors", color: "#f59e0b", metric: "crashes.errors" },
  ], { key: "crashFreeRate", name: "crash-free installations (right axis)", color: "#15803d" });
  table(document.getElementById("table-crash-versions"),
        [{ title: "Version" }, { title: "Installation-days", num: true }, { title: "Crashed", num: true },
         { title: "Crash-free", num: true }, { title: "Crashes", num: true }, { title: "Errors", num: true }],
        crashes.byVersion.map((v) => [
          v.version,
          { metric: `crashes.byVersion.${v.version}.installationDays`, value: v.installationDays },
          { metric: `crashes.byVersion.${v.version}.crashedInstallationDays`, value: v.crashedInstallationDays },
          { metric: `crashes.byVersion.${v.version}.crashFreeRate`, value: v.crashFreeRate, text: pct(v.crashFreeRate) },
          { metric: `crashes.byVersion.${v.version}.crashes`, value: v.crashes },
          { metric: `crashes.byVersion.${v.version}.errors`, value: v.errors },
        ]), "No installations were active in this range.");
  crashTable(document.getElementById("table-top-crashes"), document.getElementById("top-note"),
             crashes.top, crashes.other, crashes.minInstallations, "crashes.top", "crashes.other",
             "No crashes or errors in this range.");
}

function activitySection(act) {
  dailyColumns(document.getElementById("chart-active-daily"), act.byDay, [
    { key: "activeInstallations", name: "installation-days", color: "#6366f1", metric: "activity.installationDays" },
  ]);
  barChart(document.getElementById("chart-active-weekly"),
           act.byWeek.map((w) => ({ name: w.week, value: w.activeInstallations, metric: `activity.byWeek.${w.week}.activeInstallations` })),
           COLORS[1]);
  table(document.getElementById("table-performance"),
        [{ title: "Version" }, { title: "Summaries", num: true }, { title: "Startup", num: true }, { title: "Response", num: true }],
        act.byVersion.map((v) => [
          v.version,
          { metric: `activity.byVersion.${v.version}.summaries`, value: v.summaries },
          { metric: `activity.byVersion.${v.version}.avgStartupTimeMs`, value: v.avgStartupTimeMs, text: `${fmt(v.avgStartupTimeMs)} ms` },
          { metric: `activity.byVersion.${v.version}.avgResponseTimeMs`, value: v.avgResponseTimeMs, text: `${fmt(v.avgResponseTimeMs)} ms` },
        ]), "No weekly summaries in this range yet.");
  table(document.getElementById("table-features-weekly"),
        [{ title: "Feature" }, ...act.byWeek.map((w) => ({ title: w.week, num: true }))],
        act.features.map((f) => [f, ...act.byWeek.map((w) => (
          { metric: `activity.byWeek.${w.week}.features.${f}`, value: w.features[f] || 0 }))]),
        "No weekly summaries in this range yet.");
}

const DATASETS = ["installations", "platforms", "errors", "updates", "usage", "crashes", "activity", "ingest"];

function links(from, to, app) {
  const q = new URLSearchParams({ from, to });
  if (app) q.set("app", app);
  const exports = document.getElementById("exports");
  exports.replaceChildren("Every dataset of this view: ");
  for (const d of DATASETS) {
    for (const format of ["csv", "json"]) {
      const a = el("a", { href: `api/v1/export?dataset=${d}&format=${format}&${q}`, download: "" }, `${d}.${format}`);
      a.addEventListener("click", downloadWithToken);
      exports.append(a, " ");
    }
  }
  const reports = document.getElementById("reports");
  reports.replaceChildren("Weekly reports: ");
  // Every week the range touches, newest first: from the Monday of `to` back to that of `from`.
  const monday = (day) => {
    const t = Date.parse(`${day}T00:00:00Z`);
    return t - ((new Date(t).getUTCDay() + 6) % 7) * 86400000;
  };
  const weeks = [];
  for (let t = monday(to); t >= monday(from) && weeks.length < 12; t -= 7 * 86400000) {
    weeks.push(isoWeek(new Date(t).toISOString().slice(0, 10)));
  }
  for (const w of weeks) {
    reports.append(el("a", { href: `reports/${w}${app ? `?app=${encodeURIComponent(app)}` : ""}` }, w), " ");
  }
}

class Unauthorized extends Error {}

// A plain link cannot carry the bearer token: with one, the export is fetched and saved.
async function downloadWithToken(ev) {
  const token = sessionStorage.getItem(STATS_TOKEN_KEY);
  if (!token) return;
  ev.preventDefault();
  const res = await fetch(ev.currentTarget.href, { headers: { Authorization: `Bearer ${token}` } });
  if (!res.ok) {
    document.getElementById("status").textContent = `Export failed: HTTP ${res.status}`;
    return;
  }
  const name = (res.headers.get("Content-Disposition") || "").match(/filename="([^"]+)"/);
  const url = URL.createObjectURL(await res.blob());
  const a = el("a", { href: url, download: name ? name[1] : "export" });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

async function getJson(view, query) {
  const res = await fetch(`api/v1/stats/${view}?${query}`, { headers: apiHeaders() });
  if (res.status === 401) throw new Unauthorized("this server needs a token");
  if (!res.ok) throw new Error(`${view}: HTTP ${res.status}`);
  return res.json();
}

async function fillApps(query, selected) {
  const q = new URLSearchParams(query);
  q.delete("app");
  const { apps } = await getJson("apps", q);
  const select = document.getElementById("app");
  select.replaceChildren(el("option", { value: "" }, "All apps"));
  for (const a of apps) {
    if (!a.name) continue;
    const o = el("option", { value: a.name }, `${a.label} (${fmt(a.events)} events)`);
    if (a.name === selected) o.selected = true;
    select.append(o);
  }
  if (selected && !apps.some((a) => a.name === selected)) {
    select.append(el("option", { value: selected, selected: "" }, `${selected} (no events)`));
  }
}

async function load() {
  const params = new URLSearchParams(location.search);
  const query = new URLSearchParams();
  for (const k of ["from", "to", "days", "app"]) if (params.get(k)) query.set(k, params.get(k));
  for (const b of document.querySelectorAll(".presets button")) {
    b.setAttribute("aria-pressed", String(b.dataset.days === params.get("days")));
  }
  const status = document.getElementById("status");
  try {
    const [inst, plat, errs, upd, use, crashes, act] = await Promise.all(
      ["installations", "platforms", "errors", "updates", "usage", "crashes", "activity"].map((v) => getJson(v, query)));
    await fillApps(query, params.get("app") || "");
    document.getElementById("token-form").hidden = true;
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
    metric(document.getElementById("tile-active"), "activity.peakDailyActiveInstallations", act.peakDailyActiveInstallations);
    metric(document.getElementById("tile-crashfree"), "crashes.crashFreeRate", crashes.crashFreeRate, pct(crashes.crashFreeRate));
    crashSection(crashes);
    activitySection(act);
    links(inst.from, inst.to, params.get("app") || "");
    status.textContent = `${inst.from} to ${inst.to} (UTC), aggregated daily; today's numbers include events not yet aggregated.`;
    document.body.dataset.ready = "true";
  } catch (e) {
    if (e instanceof Unauthorized) {
      document.getElementById("token-form").hidden = false;
      status.textContent = "This server's statistics need a token (its --stats-token).";
      document.body.dataset.ready = "token";
      return;
    }
    status.textContent = `Could not load the statistics: ${e.message}`;
    status.classList.add("error");
    document.body.dataset.ready = "error";
  }
}

// The view lives in the URL, so a link shows the same numbers.
function show(q) {
  const app = document.getElementById("app").value;
  if (app) q.set("app", app);
  history.pushState(null, "", `?${q}`);
  load();
}

document.getElementById("range").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const q = new URLSearchParams();
  for (const k of ["from", "to"]) {
    const v = document.getElementById(k).value;
    if (v) q.set(k, v);
  }
  show(q);
});
for (const b of document.querySelectorAll(".presets button")) {
  b.addEventListener("click", () => show(new URLSearchParams({ days: b.dataset.days })));
}
document.getElementById("app").addEventListener("change", () => {
  const params = new URLSearchParams(location.search);
  params.delete("app");
  show(params);
});
document.getElementById("token-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  sessionStorage.setItem(STATS_TOKEN_KEY, document.getElementById("token").value);
  load();
});
window.addEventListener("popstate", load);
load();
