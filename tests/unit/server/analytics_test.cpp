// Crash analytics, per-app views, range presets, exports, weekly reports and the stats token,
// through the route table (no sockets) over a real SQLite file and an injected clock.
#include <gtest/gtest.h>

#include <sstream>

#include "server/aggregation/rollup.hpp"
#include "server/routes/stats_query.hpp"
#include "tests/unit/server/routes_fixture.hpp"

namespace dollhouse::server {
namespace {

using namespace samples;
using namespace std::chrono_literals;

class Analytics : public RoutesFixture {
 protected:
  Analytics() { limits_.min_installations = 3; }

  // One batch of `events` from installation `install` of `app`, all at `when`.
  void send(long install, std::vector<json> events, const std::string& version = "1.0",
            const std::string& app = kSampleApp, const std::string& when = "2025-01-13T09:30:00Z") {
    json stamped = json::array();
    for (json& e : events) stamped.push_back(stamp(e, uuid(install), "linux", version, when, app));
    Response r = post(batch(uuid(install), uuid(1000 + next_batch_++), stamped));
    ASSERT_EQ(r.status, 202) << r.body;
    ASSERT_EQ(json::parse(r.body)["accepted"], events.size()) << r.body;
  }
  json crashes(const std::string& app = kSampleApp) {
    return stats("crashes", "2025-01-13", "2025-01-13", app);
  }
  void aggregate() {
    clock_.advance(25h);
    RetentionPolicy policy;
    policy.min_installations = limits_.min_installations;
    auto report = run_aggregation(*storage_, clock_.now(), policy);
    ASSERT_TRUE(report.is_ok()) << report.status().message();
  }

  long next_batch_ = 0;
};

json module_crash() {
  json e = crash("MODULE_NOT_FOUND", "PortfolioManager");
  e["errorMessage"] = "Cannot find module '/home/alice/portfolio/index.js'";
  return e;
}

const json* version_row(const json& body, const std::string& version) {
  for (const json& v : body["byVersion"]) {
    if (v["version"] == version) return &v;
  }
  return nullptr;
}

TEST_F(Analytics, CrashFreeRatesPerVersionAndTopSignaturesAtLeastKInstallationsReported) {
  for (long i = 1; i <= 4; ++i) send(i, {module_crash()}, "1.0");  // 4 installations, 1.0
  send(1, {module_crash()}, "1.0");                                // a second crash of #1
  send(5, {crash("RARE", "Once")}, "1.1");                         // below k = 3
  send(6, {installation()}, "1.1");                                // active, no crash
  send(7, {error_event("EACCES", "Config")}, "1.1");

  const json before = crashes();
  EXPECT_EQ(before["crashes"], 6);
  EXPECT_EQ(before["errors"], 1);
  EXPECT_EQ(before["installationDays"], 7);
  EXPECT_EQ(before["crashedInstallationDays"], 5);
  EXPECT_EQ(before["crashFreeRate"], stats_number(2.0 / 7.0));
  EXPECT_EQ(before["minInstallations"], 3);
  const json* v10 = version_row(before, "1.0");
  const json* v11 = version_row(before, "1.1");
  ASSERT_TRUE(v10 && v11) << before.dump();
  EXPECT_EQ((*v10)["installationDays"], 4);
  EXPECT_EQ((*v10)["crashedInstallationDays"], 4);
  EXPECT_EQ((*v10)["crashFreeRate"], 0);
  EXPECT_EQ((*v10)["crashes"], 5);
  EXPECT_EQ((*v11)["installationDays"], 3);
  EXPECT_EQ((*v11)["crashedInstallationDays"], 1);
  EXPECT_EQ((*v11)["crashFreeRate"], stats_number(2.0 / 3.0));
  EXPECT_EQ((*v11)["errors"], 1);
  // The one signature four installations reported, with its scrubbed message; the rest folded.
  ASSERT_EQ(before["top"].size(), 1u) << before["top"].dump();
  const json& top = before["top"][0];
  EXPECT_EQ(top["kind"], "crash");
  EXPECT_EQ(top["category"], "MODULE_NOT_FOUND");
  EXPECT_EQ(top["component"], "PortfolioManager");
  EXPECT_EQ(top["events"], 5);
  EXPECT_EQ(top["installationDays"], 4);
  const std::string message = top["message"];
  EXPECT_EQ(message.find("alice"), std::string::npos) << message;
  EXPECT_NE(message.find("Cannot find module"), std::string::npos) << message;
  EXPECT_EQ(before["other"], json({{"crash", 1}, {"error", 1}}));
  ASSERT_EQ(before["byDay"].size(), 1u);
  EXPECT_EQ(before["byDay"][0]["activeInstallations"], 7);
  EXPECT_EQ(before["byDay"][0]["crashedInstallations"], 5);

  // After the day closes the answer is the same, from the aggregates alone.
  aggregate();
  EXPECT_EQ(raw_events(), 0);
  EXPECT_EQ(crashes(), before);
  // A crash arriving late for the closed day counts as an event, not as an installation.
  send(8, {module_crash()}, "1.0");
  const json late = crashes();
  EXPECT_EQ(late["crashes"], 7);
  EXPECT_EQ(late["installationDays"], 7);
}

TEST_F(Analytics, ADayClosedUnderALowerKShowsNoMoreThanTheKInForceNow) {
  send(1, {module_crash()});
  send(2, {module_crash()});
  // The day closes with k = 1 (as a server started with --min-installations 1 would) ...
  clock_.advance(25h);
  RetentionPolicy lax;
  lax.min_installations = 1;
  ASSERT_TRUE(run_aggregation(*storage_, clock_.now(), lax).is_ok());
  // ... and this server, with k = 3, still folds the signature two installations reported.
  const json body = crashes();
  EXPECT_EQ(body["top"], json::array());
  EXPECT_EQ(body["other"]["crash"], 2);
  Response csv = request("GET", "/api/v1/export",
                         {{"dataset", "crashes"}, {"from", "2025-01-13"}, {"to", "2025-01-13"}});
  EXPECT_EQ(csv.body.find("Cannot find module"), std::string::npos) << csv.body;
  EXPECT_NE(csv.body.find("signatures.crash,other,2"), std::string::npos) << csv.body;
}

TEST(WeeklySummaries, CountForTheWeekTheirWeekStartNamesAsADateOrATimestamp) {
  for (const char* start :
       {"2025-01-13", "2025-01-12T22:00:00Z", "2025-01-13T05:00:00Z", "2025-01-15"}) {
    json e = weekly();
    e["weekStart"] = start;
    e["app"] = "a";
    AggregateRows rows;
    roll_up_event("2025-01-21", e, rows);
    EXPECT_EQ(rows.count({"2025-01-21", "a", "weekly.summaries", "2025-01-13"}), 1u) << start;
  }
}

TEST_F(Analytics, EveryViewCanBeNarrowedToOneAppAndAllAppsCountAnInstallationOnce) {
  send(1, {installation(), crash()}, "1.0", "alpha");
  send(1, {installation()}, "7.0", "beta");  // the same installation runs a second app
  send(2, {installation()}, "7.1", "beta");

  EXPECT_EQ(stats("installations", "2025-01-13", "2025-01-13", "alpha")["total"], 1);
  EXPECT_EQ(stats("installations", "2025-01-13", "2025-01-13", "beta")["total"], 2);
  const json all = stats("installations", "2025-01-13", "2025-01-13");
  EXPECT_EQ(all["total"], 3);
  EXPECT_EQ(all["app"], nullptr);
  // Versions mean nothing without their app in the all-apps view.
  EXPECT_EQ(all["byVersion"], json({{"alpha 1.0", 1}, {"beta 7.0", 1}, {"beta 7.1", 1}}));
  EXPECT_EQ(stats("installations", "2025-01-13", "2025-01-13", "beta")["byVersion"],
            json({{"7.0", 1}, {"7.1", 1}}));

  EXPECT_EQ(stats("activity", "2025-01-13", "2025-01-13", "alpha")["peakDailyActiveInstallations"],
            1);
  EXPECT_EQ(stats("activity", "2025-01-13", "2025-01-13", "beta")["peakDailyActiveInstallations"],
            2);
  EXPECT_EQ(stats("activity", "2025-01-13", "2025-01-13")["peakDailyActiveInstallations"], 2);
  EXPECT_EQ(stats("crashes", "2025-01-13", "2025-01-13", "beta")["crashes"], 0);
  EXPECT_EQ(stats("crashes", "2025-01-13", "2025-01-13")["crashFreeRate"], 0.5);

  const json apps = stats("apps", "2025-01-13", "2025-01-13");
  EXPECT_EQ(apps["apps"], json::parse(R"([{"name":"alpha","label":"alpha","events":2},
                                          {"name":"beta","label":"beta","events":2}])"));
  // A name no app can have is refused, not echoed back.
  for (const std::string& bad :
       {std::string("dollhouse\xff"), std::string("two words"), std::string(65, 'a')}) {
    for (const char* path : {"/api/v1/stats/crashes", "/api/v1/export", "/api/v1/reports/weekly"}) {
      Response r = request("GET", path, {{"app", bad}, {"dataset", "errors"}});
      EXPECT_EQ(r.status, 400) << path;
      EXPECT_NE(r.body.find("invalid_app"), std::string::npos) << r.body;
    }
  }
  // An app nobody sent: zeros, not an error.
  EXPECT_EQ(stats("installations", "2025-01-13", "2025-01-13", "gamma")["total"], 0);

  aggregate();
  EXPECT_EQ(stats("installations", "2025-01-13", "2025-01-13")["byVersion"], all["byVersion"]);
  EXPECT_EQ(stats("activity", "2025-01-13", "2025-01-13")["peakDailyActiveInstallations"], 2);
}

TEST_F(Analytics, ARangePresetIsTheDaysEndingAtToOrToday) {
  json body = json::parse(request("GET", "/api/v1/stats/installations", {{"days", "7"}}).body);
  EXPECT_EQ(body["from"], "2025-01-07");
  EXPECT_EQ(body["to"], "2025-01-13");
  body = json::parse(
      request("GET", "/api/v1/stats/errors", {{"days", "365"}, {"to", "2025-12-31"}}).body);
  EXPECT_EQ(body["from"], "2025-01-01");
  for (const char* bad : {"0", "367", "-3", "seven", ""}) {
    Response r = request("GET", "/api/v1/stats/errors", {{"days", bad}});
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_NE(r.body.find("days must be a number"), std::string::npos) << r.body;
  }
  EXPECT_EQ(request("GET", "/api/v1/stats/errors", {{"days", "7"}, {"from", "2025-01-01"}}).status,
            400);
}

// Splits RFC 4180 text into records of fields (quoted fields may hold commas, quotes, CRLF).
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> records(1);
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      records.back().push_back(std::move(field));
      field.clear();
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      records.back().push_back(std::move(field));
      field.clear();
      records.emplace_back();
      ++i;
    } else {
      field += c;
    }
  }
  if (records.back().empty()) records.pop_back();
  return records;
}

TEST_F(Analytics, EveryDatasetExportsAsCsvAndJsonWithTheSameRows) {
  for (long i = 1; i <= 3; ++i) {
    json tricky = crash("BAD_INPUT", "=Parser");
    tricky["errorMessage"] = "expected \"name\", got a comma, then\na newline";
    send(i, {installation(), tricky, update(i != 2), weekly(i, 500)}, "1.0");
  }
  const std::map<std::string, std::string> range = {{"from", "2025-01-13"}, {"to", "2025-01-13"}};
  for (const char* dataset : {"installations", "platforms", "errors", "updates", "usage", "crashes",
                              "activity", "ingest"}) {
    auto q = range;
    q["dataset"] = dataset;
    q["format"] = "json";
    Response j = request("GET", "/api/v1/export", q);
    ASSERT_EQ(j.status, 200) << dataset << j.body;
    const json rows = json::parse(j.body)["rows"];
    EXPECT_FALSE(rows.empty()) << dataset;
    q["format"] = "csv";
    Response c = request("GET", "/api/v1/export", q);
    ASSERT_EQ(c.status, 200) << dataset;
    EXPECT_EQ(c.content_type, "text/csv; charset=utf-8; header=present");
    const auto records = parse_csv(c.body);
    ASSERT_EQ(records.size(), rows.size() + 1) << dataset << "\n" << c.body;
    EXPECT_EQ(records[0],
              (std::vector<std::string>{"date", "app", "metric", "dimension", "value"}));
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto& rec = records[i + 1];
      ASSERT_EQ(rec.size(), 5u) << dataset << " row " << i;
      EXPECT_EQ(rec[0], rows[i]["date"]);
      EXPECT_EQ(rec[2], rows[i]["metric"]);
      EXPECT_EQ(rec[4], rows[i]["value"].dump());
      // A spreadsheet must not run a dimension as a formula.
      const std::string dim = rows[i]["dimension"];
      const bool formula =
          !dim.empty() && std::string_view("=+-@\t\r").find(dim[0]) != std::string_view::npos;
      EXPECT_EQ(rec[1], rows[i]["app"]);
      EXPECT_EQ(rec[3], formula ? "'" + dim : dim);
    }
    bool disposition = false;
    for (const auto& [name, value] : c.headers) {
      if (name == "Content-Disposition") {
        disposition = true;
        EXPECT_EQ(value, std::string("attachment; filename=\"dollhouse-") + dataset +
                             "-2025-01-13-2025-01-13.csv\"");
      }
    }
    EXPECT_TRUE(disposition);
  }
  // The crash signature, with its comma, quotes and line break, survives the CSV round trip.
  auto q = range;
  q["dataset"] = "crashes";
  const std::string body = request("GET", "/api/v1/export", q).body;
  bool found = false;
  for (const auto& rec : parse_csv(body)) {
    if (rec.size() == 5 && rec[2] == "signatures.crash" && rec[1] == kSampleApp) {
      const json sig = json::parse(rec[3]);
      EXPECT_EQ(sig[0], "BAD_INPUT");
      EXPECT_EQ(sig[2], "expected \"name\", got a comma, then\na newline");
      EXPECT_EQ(rec[4], "3");
      found = true;
    }
  }
  EXPECT_TRUE(found) << body;

  EXPECT_EQ(request("GET", "/api/v1/export", {{"dataset", "secrets"}}).status, 400);
  EXPECT_EQ(request("GET", "/api/v1/export", {{"dataset", "usage"}, {"format", "xml"}}).status,
            400);
  EXPECT_EQ(request("POST", "/api/v1/export", {{"dataset", "usage"}}).status, 405);
}

TEST_F(Analytics, TheWeeklyReportGivesAWeekAndItsChangeFromTheWeekBefore) {
  // Week 2025-W02 (Monday 6th): two installations. Week 2025-W03 (Monday 13th): five, four of
  // which crash the same way, on 1.1.
  clock_.set(at("2025-01-08T12:00:00Z"));
  send(11, {installation()}, "1.0", kSampleApp, "2025-01-08T09:00:00Z");
  send(12, {installation()}, "1.0", kSampleApp, "2025-01-08T09:00:00Z");
  clock_.set(at("2025-01-14T12:00:00Z"));
  for (long i = 1; i <= 5; ++i) {
    std::vector<json> events = {installation()};
    if (i <= 4) events.push_back(module_crash());
    send(i, events, "1.1", kSampleApp, "2025-01-14T09:00:00Z");
  }
  // The week's summaries arrive once it has closed, in the week after.
  clock_.set(at("2025-01-21T12:00:00Z"));
  for (long i = 1; i <= 3; ++i) {
    json w = weekly(2, 400);
    w["weekStart"] = "2025-01-13";
    send(i, {w}, "1.1", kSampleApp, "2025-01-21T08:00:00Z");
  }

  Response r = request("GET", "/api/v1/reports/weekly", {{"week", "2025-W03"}});
  ASSERT_EQ(r.status, 200) << r.body;
  const json report = json::parse(r.body);
  EXPECT_EQ(report["week"], "2025-W03");
  EXPECT_EQ(report["weekStart"], "2025-01-13");
  EXPECT_EQ(report["weekEnd"], "2025-01-19");
  EXPECT_EQ(report["installations"], 5);
  EXPECT_EQ(report["activeInstallations"], 3);
  EXPECT_EQ(report["peakDailyActiveInstallations"], 5);
  EXPECT_EQ(report["crashes"], 4);
  EXPECT_EQ(report["crashFreeRate"], 0.2);
  EXPECT_EQ(report["installationsByVersion"], json({{"dollhousemcp 1.1", 5}}));
  EXPECT_EQ(json::parse(request("GET", "/api/v1/reports/weekly",
                                {{"week", "2025-W03"}, {"app", kSampleApp}})
                            .body)["installationsByVersion"],
            json({{"1.1", 5}}));
  ASSERT_EQ(report["topCrashes"].size(), 1u);
  EXPECT_EQ(report["topCrashes"][0]["installationDays"], 4);
  EXPECT_EQ(report["topCrashes"][0]["message"].get<std::string>().find("alice"), std::string::npos);
  EXPECT_EQ(report["features"],
            json({{"personasUsed", 6}, {"skillsUsed", 3}, {"memoriesUsed", 21}}));
  EXPECT_EQ(report["previous"]["week"], "2025-W02");
  EXPECT_EQ(report["previous"]["installations"], 2);
  EXPECT_EQ(report["changes"]["installations"], 3);
  EXPECT_EQ(report["changes"]["crashes"], 4);
  EXPECT_EQ(report["changes"]["crashFreeRate"], -0.8);
  // Nothing that tells an installation apart.
  EXPECT_EQ(r.body.find("00000000-0000-4000"), std::string::npos);

  // The same after every day has closed.
  aggregate();
  aggregate();
  EXPECT_EQ(json::parse(request("GET", "/api/v1/reports/weekly", {{"week", "2025-W03"}}).body),
            report);

  // Default: the last complete week (the clock is in 2025-W04 now).
  EXPECT_EQ(json::parse(request("GET", "/api/v1/reports/weekly").body)["week"], "2025-W03");
  EXPECT_EQ(request("GET", "/api/v1/reports/weekly", {{"week", "2026-W53"}}).status, 200);
  for (const char* bad : {"2025-W53", "2025-W00", "2025-13", "W03"}) {
    EXPECT_EQ(request("GET", "/api/v1/reports/weekly", {{"week", bad}}).status, 400) << bad;
  }
  Response page = request("GET", "/reports/2025-W03");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("../report.js"), std::string::npos);
  EXPECT_EQ(request("GET", "/reports/2025-W99").status, 404);
  EXPECT_EQ(request("GET", "/report.js").content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(request("GET", "/pages.js").content_type, "text/javascript; charset=utf-8");
}

TEST(IsoWeeks, LabelsAndMondaysAgree) {
  EXPECT_EQ(iso_week_label("2025-01-13"), "2025-W03");
  EXPECT_EQ(iso_week_label("2024-12-30"), "2025-W01");  // its Thursday is in 2025
  EXPECT_EQ(iso_week_label("2026-12-28"), "2026-W53");
  EXPECT_EQ(iso_week_label("2021-01-04"), "2021-W01");
  EXPECT_EQ(iso_week_start("2025-W01"), "2024-12-30");
  EXPECT_EQ(iso_week_start("2020-W53"), "2020-12-28");
  EXPECT_EQ(iso_week_start("2021-W53"), std::nullopt);
  EXPECT_EQ(iso_week_start("2025-w03"), std::nullopt);
  EXPECT_EQ(iso_week_start("2025-W3"), std::nullopt);
  // Every Monday of six years round-trips.
  for (std::string monday = "2020-12-28"; monday < "2026-12-31"; monday = add_days(monday, 7)) {
    auto back = iso_week_start(iso_week_label(monday));
    ASSERT_TRUE(back.has_value()) << monday;
    EXPECT_EQ(*back, monday);
  }
}

class TokenGuarded : public Analytics {
 protected:
  TokenGuarded() { stats_token_ = "correct-horse-battery-staple"; }
};

TEST_F(TokenGuarded, StatsExportsAndReportsNeedTheBearerTokenButIngestAndThePageDoNot) {
  send(1, {installation()});  // ingest is not guarded by the stats token
  const std::vector<std::pair<std::string, std::map<std::string, std::string>>> guarded = {
      {"/api/v1/stats/installations", {}},
      {"/api/v1/stats/crashes", {}},
      {"/api/v1/export", {{"dataset", "installations"}}},
      {"/api/v1/reports/weekly", {}},
  };
  for (const auto& [path, query] : guarded) {
    for (const char* wrong :
         {"", "Bearer wrong", "Bearer correct-horse-battery-stapl",
          "Basic correct-horse-battery-staple", "correct-horse-battery-staple"}) {
      Response r = request("GET", path, query, wrong);
      EXPECT_EQ(r.status, 401) << path << " with '" << wrong << "'";
      bool challenge = false;
      for (const auto& [name, value] : r.headers) challenge |= name == "WWW-Authenticate";
      EXPECT_TRUE(challenge) << path;
    }
    Response ok = request("GET", path, query, "Bearer correct-horse-battery-staple");
    EXPECT_EQ(ok.status, 200) << path << ok.body;
    // The scheme's name is case-insensitive; the token is not.
    EXPECT_EQ(request("GET", path, query, "bearer correct-horse-battery-staple").status, 200);
    EXPECT_EQ(request("GET", path, query, "Bearer CORRECT-horse-battery-staple").status, 401);
  }
  EXPECT_EQ(json::parse(request("GET", "/api/v1/stats/installations", {{"days", "1"}},
                                "Bearer correct-horse-battery-staple")
                            .body)["total"],
            1);
  EXPECT_EQ(request("GET", "/").status, 200);
  EXPECT_EQ(request("GET", "/reports/2025-W03").status, 200);
  EXPECT_EQ(request("GET", "/healthz").status, 200);
}

}  // namespace
}  // namespace dollhouse::server
