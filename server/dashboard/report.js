// The printable weekly report at /reports/YYYY-Www: the JSON of /api/v1/reports/weekly drawn as
// tiles and tables, with the helpers of pages.js. Every number carries data-metric (its path in
// the JSON) and data-value.
"use strict";

function counts(target, obj, prefix, label, message) {
  const rows = Object.entries(obj || {}).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  table(target, [{ title: label }, { title: "Count", num: true }],
        rows.map(([name, n]) => [name, { metric: `${prefix}.${name}`, value: n }]), message);
}

// A summary tile: the figure, and its change from the week before.
function tile(r, key, label, asRate, note) {
  const box = el("div", { class: "tile" });
  box.append(el("span", { class: "label" }, label));
  box.append(metric(el("span", { class: "value" }), key, r[key], asRate ? pct(r[key]) : undefined));
  const change = r.changes[key];
  const before = r.previous[key];
  const line = el("span", { class: "note" });
  if (change === null || change === undefined) {
    line.textContent = note || "no figure the week before";
  } else {
    const sign = change > 0 ? "+" : change < 0 ? "−" : "±";
    const size = asRate ? `${Math.round(Math.abs(change) * 1000) / 10} points` : fmt(Math.abs(change));
    metric(line, `changes.${key}`, change, `${sign}${size} from ${asRate ? pct(before) : fmt(before)} in ${r.previous.week}`);
  }
  box.append(line);
  return box;
}

function render(r) {
  document.title = `${r.week} · Weekly report · Dollhouse Telemetry`;
  document.getElementById("title").textContent = `Weekly report ${r.week}${r.app ? ` · ${r.app}` : ""}`;
  document.getElementById("subtitle").textContent =
    `${r.weekStart} to ${r.weekEnd} (Monday to Sunday, UTC). Anonymous, aggregated: no installation can be told apart here.`;
  document.getElementById("summary").replaceChildren(
    tile(r, "activeInstallations", "Active installations", false, "from weekly summaries"),
    tile(r, "peakDailyActiveInstallations", "Peak daily active"),
    tile(r, "installations", "New installations"),
    tile(r, "crashFreeRate", "Crash-free", true),
    tile(r, "crashes", "Crashes"),
    tile(r, "errors", "Handled errors"),
    tile(r, "updateSuccessRate", "Update success", true));
  counts(document.getElementById("report-installs-version"), r.installationsByVersion,
         "installationsByVersion", "Version", "No new installations this week.");
  counts(document.getElementById("report-installs-os"), r.installationsByOs,
         "installationsByOs", "OS", "No new installations this week.");
  table(document.getElementById("report-versions"),
        [{ title: "Version" }, { title: "Installation-days", num: true }, { title: "Crashed", num: true },
         { title: "Crash-free", num: true }, { title: "Crashes", num: true }, { title: "Errors", num: true }],
        r.versions.map((v) => [
          v.version,
          { metric: `versions.${v.version}.installationDays`, value: v.installationDays },
          { metric: `versions.${v.version}.crashedInstallationDays`, value: v.crashedInstallationDays },
          { metric: `versions.${v.version}.crashFreeRate`, value: v.crashFreeRate, text: pct(v.crashFreeRate) },
          { metric: `versions.${v.version}.crashes`, value: v.crashes },
          { metric: `versions.${v.version}.errors`, value: v.errors },
        ]), "No installation was active this week.");
  crashTable(document.getElementById("report-top"), document.getElementById("report-top-note"),
             r.topCrashes, r.otherCrashes, r.minInstallations, "topCrashes", "otherCrashes",
             "No crashes or errors this week.");
  counts(document.getElementById("report-features"), r.features, "features", "Feature",
         "No weekly summaries for this week yet (they arrive once the week has closed).");
  document.getElementById("method").textContent =
    "Active installations count the weekly summaries of this week (one per installation that ran). " +
    "Crash-free is the share of installation-days (an installation active on a day) without a crash. " +
    `A crash message appears only once at least ${r.minInstallations} installations reported it on one day; ` +
    "raw events are kept at most 24 hours and never published.";
}

// The ISO week `days` days from `monday`.
function weekOf(monday, days) {
  return isoWeek(new Date(Date.parse(`${monday}T00:00:00Z`) + days * 86400000).toISOString().slice(0, 10));
}

async function load() {
  const week = decodeURIComponent(location.pathname.split("/").pop());
  const params = new URLSearchParams(location.search);
  const query = new URLSearchParams({ week });
  if (params.get("app")) query.set("app", params.get("app"));
  const url = `../api/v1/reports/weekly?${query}`;
  document.getElementById("json-link").textContent = `/api/v1/reports/weekly?${query}`;
  const status = document.getElementById("status");
  try {
    const res = await fetch(url, { headers: apiHeaders() });
    if (res.status === 401) {
      document.getElementById("token-form").hidden = false;
      status.textContent = "This server's statistics need a token (its --stats-token).";
      document.body.dataset.ready = "token";
      return;
    }
    const body = await res.json();
    if (!res.ok) throw new Error(body.error ? body.error.message : `HTTP ${res.status}`);
    document.getElementById("token-form").hidden = true;
    const suffix = params.get("app") ? `?app=${encodeURIComponent(params.get("app"))}` : "";
    document.getElementById("previous-week").href = `${weekOf(body.weekStart, -7)}${suffix}`;
    document.getElementById("next-week").href = `${weekOf(body.weekStart, 7)}${suffix}`;
    render(body);
    status.textContent = "";
    document.body.dataset.ready = "true";
  } catch (e) {
    status.textContent = `Could not load the report: ${e.message}`;
    status.classList.add("error");
    document.body.dataset.ready = "error";
  }
}

document.getElementById("token-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  sessionStorage.setItem(STATS_TOKEN_KEY, document.getElementById("token").value);
  load();
});
document.getElementById("print").addEventListener("click", () => window.print());
load();
