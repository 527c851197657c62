// A simulated fortnight as a maintainer's server sees it. Six real daemons (one per
// installation, each its own data root and socket) upload what two apps report over fourteen
// days: the demo program (its own process, on each installation's first day) and a small C++
// app built on the client library ("dollhousemcp", updated from 1.9.15 to 1.9.16 halfway,
// crashing on some days). The server runs in this process on 127.0.0.1 with an injected clock
// the test moves one day at a time, so uploads land on the simulated day; the aggregation job
// runs every simulated evening. Weekly summaries are posted in the upload format, because a
// daemon only sends one when a real week closes.
//
// Then the crash, activity and report APIs answer what a maintainer asks (active installations,
// which versions crash and how often, the top crash with its scrubbed message, which features
// are used), each figure computed here from the plan, not written down; and headless Chromium
// shows the same numbers on the dashboard and the weekly report, at 1400 and 420 px, with
// screenshots kept in <build>/test-artifacts/.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <boost/asio/io_context.hpp>

#include "dollhouse/telemetry.hpp"
#include "server/aggregation/rollup.hpp"
#include "server/http/http_server.hpp"
#include "server/routes/stats_query.hpp"
#include "tests/integration/chromium.hpp"
#include "tests/integration/server_harness.hpp"
#include "tests/support/daemon_harness.hpp"
#include "tests/unit/server/fake_clock.hpp"
#include "tests/unit/server/server_samples.hpp"

namespace dollhouse::testing {
namespace {

using nlohmann::json;
using server::add_days;
using server::iso_week_label;
using namespace std::chrono_literals;

constexpr int kInstalls = 6;
constexpr int kDays = 14;
constexpr const char* kFirstDay = "2025-03-03";  // a Monday: the fortnight is 2025-W10 and W11
constexpr const char* kApp = "dollhousemcp";

// ---- The plan: who runs what on which day ----------------------------------------------------

int first_day(int install) {
  return install == 5 ? 3 : 0;
}
bool updated(int install, int day) {
  return install < 4 && day >= 7;
}
std::string version_of(int install, int day) {
  return updated(install, day) ? "1.9.16" : "1.9.15";
}

// A crash reported by many: five installations on day 2 (kept), two on day 4 (below k).
bool crashes_common(int install, int day) {
  return (day == 2 && install < 5) || (day == 4 && install < 2);
}
// A crash only one installation has, on the new version.
bool crashes_rare(int install, int day) {
  return day == 9 && install == 0;
}
bool crashes(int install, int day) {
  return crashes_common(install, day) || crashes_rare(install, day);
}
bool errs(int install, int day) {
  return (day + install) % 4 == 0;
}
bool active(int install, int day) {
  if (day < first_day(install)) return false;
  return day == first_day(install) || (day == 7 && install < 4) || crashes(install, day) ||
         (day + install) % 3 != 0;
}
std::string day_of(int day) {
  return add_days(kFirstDay, day);
}
// Whether the installation sent the server anything that day: usage counters stay on the
// machine until the weekly summary, so a day with nothing else is not seen there.
bool reported(int install, int day) {
  return active(install, day) &&
         (day == first_day(install) || (day == 7 && updated(install, day)) ||
          crashes(install, day) || errs(install, day));
}

// ---- The server, in this process, with the test's clock --------------------------------------

std::unique_ptr<server::Storage> open_or_die(const std::string& path) {
  auto opened = server::open_storage(path);
  if (!opened) throw std::runtime_error(opened.status().message());
  return std::move(*opened);
}

class InProcessServer {
 public:
  InProcessServer()
      : storage_(open_or_die(dir_.file("server.db"))),
        limiter_(0, 0, clock_.now()),
        ctx_{*storage_, clock_, scrubber_, limiter_, server::Limits{}, {}, clock_.now(), ""},
        http_(ctx_, ioc_, nullptr) {
    if (Status st = http_.listen("127.0.0.1", 0); !st) throw std::runtime_error(st.message());
    http_.start();
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~InProcessServer() {
    ioc_.stop();
    thread_.join();
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(http_.port()) + path;
  }
  HttpClient client() const { return HttpClient("127.0.0.1", http_.port()); }
  server::samples::FakeClock& clock() { return clock_; }
  // The aggregation job, as the server's timer runs it.
  void aggregate() {
    server::RetentionPolicy policy;
    policy.min_installations = ctx_.limits.min_installations;
    auto report = server::run_aggregation(*storage_, clock_.now(), policy);
    ASSERT_TRUE(report.is_ok()) << report.status().message();
  }
  std::int64_t k() const { return ctx_.limits.min_installations; }

 private:
  TempDir dir_;
  server::samples::FakeClock clock_{server::samples::at(std::string(kFirstDay) + "T00:00:00Z")};
  std::unique_ptr<server::Storage> storage_;
  privacy::Scrubber scrubber_;
  server::TokenBucket limiter_;
  server::ServerContext ctx_;
  boost::asio::io_context ioc_;
  server::HttpServer http_;
  std::thread thread_;
};

// ---- The apps ---------------------------------------------------------------------------------

telemetry::FailureEvent failure(std::string type, std::string category, std::string message,
                                std::string component, bool recovered) {
  telemetry::FailureEvent e;
  e.error_type = std::move(type);
  e.error_category = std::move(category);
  e.error_message = std::move(message);
  e.component = std::move(component);
  e.recovered = recovered;
  return e;
}

telemetry::FailureEvent common_crash() {
  return failure("startup", "MODULE_NOT_FOUND",
                 "Cannot find module '/home/alice/.dollhouse/portfolio/indexer.js'",
                 "PortfolioIndexer", false);
}

telemetry::FailureEvent rare_crash() {
  return failure("runtime", "ERR_INVALID_STATE", "memory store closed twice", "MemoryStore", false);
}

// One day of the C++ app on one installation: a Client for that day's version, its events,
// and the flush that hands them to the daemon.
void run_app_day(const DaemonHarness& daemon, int install, int day) {
  telemetry::ClientOptions options;
  options.app = kApp;
  options.app_version = version_of(install, day);
  options.mcp_client = "claude-code";
  options.socket_path = daemon.socket();
  options.data_root = daemon.root();
  options.environment = std::map<std::string, std::string>{};
  if (day == first_day(install))
    options.installation = telemetry::InstallationEvent{"npm", "new", ""};
  if (day == 7 && updated(install, day)) {
    options.update = telemetry::UpdateEvent{"1.9.15", "1.9.16", true, "", 3000};
  }
  telemetry::Client client(options);
  if (crashes_common(install, day)) {
    ASSERT_TRUE(client.track_crash(common_crash()));
  }
  if (crashes_rare(install, day)) {
    ASSERT_TRUE(client.track_crash(rare_crash()));
  }
  if (errs(install, day)) {
    ASSERT_TRUE(client.track_error(failure(
        "runtime", "ETIMEDOUT", "request to api.github.com timed out", "GitHubAuth", true)));
  }
  telemetry::Usage usage;
  usage.counters = {{"personasUsed", 2}, {"skillsUsed", 1}};
  ASSERT_TRUE(client.usage(usage));
  ASSERT_TRUE(client.flush(20s)) << "install " << install << " day " << day;
}

void run_demo(const DaemonHarness& daemon) {
  RunResult r = run_process(
      {build_bin("dollhouse-telemetry-demo"), "--home", daemon.root(), "--socket", daemon.socket()},
      daemon.env());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_NE(r.out.find("daemon confirmed"), std::string::npos) << r.out;
}

// The weekly summary a daemon sends for `install` once the week of `monday` (plan day
// `week_day`) has closed, in the upload's own format.
json weekly_summary(int install, int week_day, const std::string& install_id) {
  int active_days = 0, crash_count = 0, error_count = 0;
  for (int d = week_day; d < week_day + 7 && d < kDays; ++d) {
    if (!active(install, d)) continue;
    ++active_days;
    crash_count += crashes(install, d);
    error_count += errs(install, d);
  }
  const std::string version = version_of(install, week_day + 6);
  json e = {{"eventType", "weekly_summary"},
            {"weekStart", day_of(week_day)},
            {"activeDays", active_days},
            {"sessionCount", 2 * active_days},
            {"features", {{"personasUsed", 2 * active_days}, {"skillsUsed", active_days}}},
            {"performance",
             {{"avgStartupTime", version == "1.9.16" ? 640 : 910}, {"avgResponseTime", 35}}},
            {"health", {{"crashCount", crash_count}, {"errorCount", error_count}}}};
  return server::samples::stamp(e, install_id, "linux", version,
                                day_of(week_day + 7) + "T08:00:00Z", kApp);
}

int summaries_of_week(int week_day) {
  int n = 0;
  for (int i = 0; i < kInstalls; ++i) {
    for (int d = week_day; d < week_day + 7; ++d) {
      if (active(i, d)) {
        ++n;
        break;
      }
    }
  }
  return n;
}

std::string stats_url(const std::string& view, const std::string& app) {
  return "/api/v1/stats/" + view + "?from=" + day_of(0) + "&to=" + day_of(kDays) +
         (app.empty() ? "" : "&app=" + app);
}

// Every number of `api` the page should show as data-metric → value (paths as dashboard.js
// names them).
std::map<std::string, json> dashboard_numbers(const json& crash, const json& activity,
                                              const json& installs) {
  std::map<std::string, json> out = {
      {"installations.total", installs["total"]},
      {"crashes.crashFreeRate", crash["crashFreeRate"]},
      {"activity.peakDailyActiveInstallations", activity["peakDailyActiveInstallations"]},
      {"crashes.crashes", crash["crashes"]},
      {"crashes.errors", crash["errors"]},
      {"crashes.other.crash", crash["other"]["crash"]},
  };
  for (const json& v : crash["byVersion"]) {
    const std::string p = "crashes.byVersion." + v["version"].get<std::string>() + ".";
    for (const char* f :
         {"installationDays", "crashedInstallationDays", "crashFreeRate", "crashes", "errors"}) {
      out[p + f] = v[f];
    }
  }
  for (std::size_t i = 0; i < crash["top"].size(); ++i) {
    out["crashes.top." + std::to_string(i) + ".events"] = crash["top"][i]["events"];
    out["crashes.top." + std::to_string(i) + ".installationDays"] =
        crash["top"][i]["installationDays"];
  }
  for (const json& w : activity["byWeek"]) {
    const std::string p = "activity.byWeek." + w["week"].get<std::string>() + ".";
    out[p + "activeInstallations"] = w["activeInstallations"];
    for (const auto& [name, n] : w["features"].items()) out[p + "features." + name] = n;
  }
  for (const json& v : activity["byVersion"]) {
    const std::string p = "activity.byVersion." + v["version"].get<std::string>() + ".";
    for (const char* f : {"summaries", "avgStartupTimeMs", "avgResponseTimeMs"}) out[p + f] = v[f];
  }
  return out;
}

void expect_page_shows(const std::map<std::string, std::string>& shown,
                       const std::map<std::string, json>& expected, const std::string& page) {
  for (const auto& [name, value] : expected) {
    auto it = shown.find(name);
    ASSERT_NE(it, shown.end()) << name << " is not on " << page;
    if (value.is_null()) {
      EXPECT_EQ(it->second, "") << name << " on " << page;
    } else {
      EXPECT_EQ(json::parse(it->second), value) << name << " on " << page;
    }
  }
}

void expect_png(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string head(8, '\0');
  in.read(head.data(), 8);
  EXPECT_EQ(head.substr(1, 3), "PNG") << path;
  EXPECT_GT(std::filesystem::file_size(path), 20000u) << path;
}

TEST(ServerAnalytics, AFortnightOfRealUploadsAnswersWhatAMaintainerAsks) {
  InProcessServer srv;
  std::vector<std::unique_ptr<DaemonHarness>> daemons;
  std::vector<std::string> install_ids;
  for (int i = 0; i < kInstalls; ++i) {
    daemons.push_back(std::make_unique<DaemonHarness>());
    ASSERT_TRUE(
        daemons.back()->start({{"DOLLHOUSE_TELEMETRY_ENDPOINT", srv.url("/api/v1/telemetry")}}));
    ASSERT_TRUE(daemons.back()->enable()["ok"].get<bool>());
    install_ids.push_back(daemons.back()->status()["installId"].get<std::string>());
  }

  HttpClient http = srv.client();
  for (int day = 0; day <= kDays; ++day) {
    srv.clock().set(server::samples::at(day_of(day) + "T12:00:00Z"));
    for (int i = 0; i < kInstalls && day < kDays; ++i) {
      if (!active(i, day)) continue;
      ASSERT_NO_FATAL_FAILURE(run_app_day(*daemons[i], i, day));
      if (day == first_day(i)) {
        ASSERT_NO_FATAL_FAILURE(run_demo(*daemons[i]));
      }
      json flushed = daemons[i]->client().request({{"op", "flush"}}, 60s);
      ASSERT_TRUE(flushed.value("ok", false)) << flushed.dump();
      ASSERT_EQ(daemons[i]->status()["queue"]["pending"], 0) << "install " << i << " day " << day;
    }
    // A week's summaries arrive on the Monday after it.
    if (day == 7 || day == 14) {
      for (int i = 0; i < kInstalls; ++i) {
        json s = weekly_summary(i, day - 7, install_ids[i]);
        if (s["activeDays"] == 0) continue;
        json b = server::samples::batch(install_ids[i], server::samples::uuid(9000 + 100 * day + i),
                                        json::array({s}));
        ASSERT_EQ(http.post_batch(b).status, 202);
      }
    }
    srv.clock().set(server::samples::at(day_of(day) + "T23:00:00Z"));
    ASSERT_NO_FATAL_FAILURE(srv.aggregate());
  }

  // ---- What the API answers, against what the plan says -----------------------------------
  const json crash = http.get(stats_url("crashes", kApp)).json();
  const json activity = http.get(stats_url("activity", kApp)).json();
  const json installs = http.get(stats_url("installations", kApp)).json();

  int peak = 0;
  std::map<std::string, std::pair<int, int>> by_version;  // installation-days, crashed
  int crash_events = 0, error_events = 0;
  for (int d = 0; d < kDays; ++d) {
    int n = 0;
    for (int i = 0; i < kInstalls; ++i) {
      if (!reported(i, d)) continue;
      ++n;
      auto& v = by_version[version_of(i, d)];
      ++v.first;
      v.second += crashes(i, d);
      crash_events += crashes(i, d);
      error_events += errs(i, d);
    }
    peak = std::max(peak, n);
  }
  EXPECT_EQ(installs["total"], kInstalls);
  EXPECT_EQ(activity["peakDailyActiveInstallations"], peak);
  EXPECT_EQ(crash["crashes"], crash_events);
  EXPECT_EQ(crash["errors"], error_events);
  ASSERT_EQ(crash["byVersion"].size(), by_version.size()) << crash.dump();
  for (const json& v : crash["byVersion"]) {
    const auto& [days, crashed] = by_version.at(v["version"].get<std::string>());
    EXPECT_EQ(v["installationDays"], days) << v.dump();
    EXPECT_EQ(v["crashedInstallationDays"], crashed) << v.dump();
    EXPECT_EQ(v["crashFreeRate"], server::stats_ratio(days - crashed, days)) << v.dump();
  }
  // The top crash: the one five installations reported on one day, its message scrubbed. The
  // two of day 4 and the rare one are counted under "other", without their text.
  ASSERT_EQ(crash["top"].size(), 1u) << crash["top"].dump();
  const json& top = crash["top"][0];
  EXPECT_EQ(top["category"], "MODULE_NOT_FOUND");
  EXPECT_EQ(top["component"], "PortfolioIndexer");
  int reported_on_day_2 = 0;
  for (int i = 0; i < kInstalls; ++i) reported_on_day_2 += crashes_common(i, 2);
  ASSERT_GE(reported_on_day_2, srv.k());
  EXPECT_EQ(top["installationDays"], reported_on_day_2);
  EXPECT_EQ(top["events"], reported_on_day_2);
  const std::string message = top["message"];
  EXPECT_NE(message.find("Cannot find module"), std::string::npos) << message;
  EXPECT_EQ(message.find("alice"), std::string::npos) << message;
  EXPECT_EQ(crash["other"]["crash"], crash_events - reported_on_day_2);
  EXPECT_EQ(crash.dump().find("memory store closed twice"), std::string::npos);
  // Features and active installations per week, from the summaries.
  ASSERT_EQ(activity["byWeek"].size(), 2u) << activity.dump();
  EXPECT_EQ(activity["byWeek"][0]["week"], "2025-W10");
  EXPECT_EQ(activity["byWeek"][0]["activeInstallations"], summaries_of_week(0));
  EXPECT_EQ(activity["byWeek"][1]["activeInstallations"], summaries_of_week(7));
  // The demo, its own app: its crash was reported by every installation on its first day.
  const json demo = http.get(stats_url("crashes", "dollhouse-telemetry-demo")).json();
  ASSERT_FALSE(demo["top"].empty()) << demo.dump();
  EXPECT_EQ(demo["top"][0]["message"], "Cannot find module 'portfolio-indexer'");
  // All apps: an installation running both apps is one installation.
  const json all = http.get(stats_url("activity", "")).json();
  EXPECT_EQ(all["peakDailyActiveInstallations"], peak);

  // The weekly report of the second week, against the first.
  const std::string week = iso_week_label(day_of(7));
  HttpReply rep = http.get("/api/v1/reports/weekly?week=" + week + "&app=" + kApp);
  ASSERT_EQ(rep.status, 200) << rep.body;
  const json report = rep.json();
  EXPECT_EQ(report["activeInstallations"], summaries_of_week(7));
  EXPECT_EQ(report["previous"]["activeInstallations"], summaries_of_week(0));
  int features = 0;
  for (int i = 0; i < kInstalls; ++i) {
    features += weekly_summary(i, 7, install_ids[i])["features"]["personasUsed"].get<int>();
  }
  EXPECT_EQ(report["features"]["personasUsed"], features);
  EXPECT_EQ(report["topCrashes"].size(), 0u) << "no signature of week 2 reached k";
  int week_2_crashes = 0;
  for (int i = 0; i < kInstalls; ++i) {
    for (int d = 7; d < kDays; ++d) week_2_crashes += active(i, d) && crashes(i, d);
  }
  EXPECT_EQ(report["crashes"], week_2_crashes);
  EXPECT_EQ(report["otherCrashes"]["crash"], week_2_crashes);
  EXPECT_EQ(rep.body.find(install_ids[0]), std::string::npos);

  // ---- What a person sees ---------------------------------------------------------------------
  const std::string chromium = find_chromium();
  if (chromium.empty()) GTEST_SKIP() << "page checks skipped: chromium is not installed";
  const std::string page = srv.url("/?from=" + day_of(0) + "&to=" + day_of(kDays) + "&app=" + kApp);
  const auto numbers = dashboard_numbers(crash, activity, installs);
  for (const auto& [width, height] : {std::pair{1400, 3400}, std::pair{420, 4400}}) {
    RunResult dom = run_chromium(chromium, page, "--dump-dom", width, height);
    ASSERT_EQ(dom.exit_code, 0) << dom.err;
    ASSERT_NE(dom.out.find("data-ready=\"true\""), std::string::npos) << dom.out.substr(0, 3000);
    expect_page_shows(metrics_in(dom.out), numbers, "the dashboard at " + std::to_string(width));
    const std::string png =
        (test_artifacts() / ("server-analytics-" + std::to_string(width) + ".png")).string();
    std::filesystem::remove(png);
    RunResult shot = run_chromium(chromium, page, "--screenshot=" + png, width, height);
    ASSERT_EQ(shot.exit_code, 0) << shot.err;
    expect_png(png);
  }

  const std::string report_page = srv.url("/reports/" + week + "?app=" + kApp);
  RunResult dom = run_chromium(chromium, report_page, "--dump-dom", 1400, 1200);
  ASSERT_EQ(dom.exit_code, 0) << dom.err;
  ASSERT_NE(dom.out.find("data-ready=\"true\""), std::string::npos) << dom.out.substr(0, 3000);
  std::map<std::string, json> shown_report = {
      {"activeInstallations", report["activeInstallations"]},
      {"installations", report["installations"]},
      {"crashFreeRate", report["crashFreeRate"]},
      {"crashes", report["crashes"]},
      {"changes.activeInstallations", report["changes"]["activeInstallations"]},
      {"otherCrashes.crash", report["otherCrashes"]["crash"]},
  };
  for (const json& v : report["versions"]) {
    const std::string p = "versions." + v["version"].get<std::string>() + ".";
    shown_report[p + "crashFreeRate"] = v["crashFreeRate"];
    shown_report[p + "installationDays"] = v["installationDays"];
  }
  for (const auto& [name, n] : report["features"].items()) shown_report["features." + name] = n;
  expect_page_shows(metrics_in(dom.out), shown_report, "the weekly report");
  const std::string png = (test_artifacts() / "server-weekly-report.png").string();
  std::filesystem::remove(png);
  RunResult shot = run_chromium(chromium, report_page, "--screenshot=" + png, 1400, 1200);
  ASSERT_EQ(shot.exit_code, 0) << shot.err;
  expect_png(png);
}

}  // namespace
}  // namespace dollhouse::testing
