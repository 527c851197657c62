// The dashboard in headless Chromium: the page renders, every number it shows equals the stats
// API's, and a screenshot is kept as a test artifact (<build>/test-artifacts/). Skipped, with a
// message, when Chromium is not installed.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/integration/chromium.hpp"
#include "tests/integration/server_harness.hpp"
#include "tests/unit/server/server_samples.hpp"

namespace dollhouse::testing {
namespace {

using namespace server::samples;

// A few weeks of plausible traffic, so the charts have something to show.
void post_sample_traffic(HttpClient& c) {
  const char* oses[] = {"linux", "macos", "windows"};
  const char* versions[] = {"1.9.14", "1.9.15", "1.9.16"};
  long n = 0;
  for (int day = 1; day <= 20; ++day) {
    char ts[32];
    std::snprintf(ts, sizeof ts, "2025-01-%02dT10:00:00Z", day);
    json events = json::array();
    for (int i = 0; i < (day % 5) + 2; ++i) {
      const std::string install = uuid(++n);
      const char* os = oses[(day + i) % 3];
      const char* version = versions[std::min(2, (day + i) / 8)];
      events.push_back(
          stamp(installation(i % 4 == 0 ? "docker" : "npm"), install, os, version, ts));
      events.push_back(stamp(update(i % 5 != 0), install, os, version, ts));
      if (i % 2 == 0)
        events.push_back(
            stamp(crash(i % 3 ? "MODULE_NOT_FOUND" : "EACCES"), install, os, version, ts));
      events.push_back(stamp(
          error_event(i % 2 ? "ETIMEDOUT" : "EACCES", i % 3 ? "GitHubAuth" : "PortfolioManager"),
          install, os, version, ts));
      if (day % 7 == 0)
        events.push_back(stamp(weekly(i + 1, 700 + 20 * i), install, os, version, ts));
      // One installation per batch here: the batch's installId must match its events'.
      ASSERT_EQ(c.post_batch(batch(install, uuid(100000 + n), events)).status, 202);
      events = json::array();
    }
  }
}

TEST(ServerDashboard, RendersTheNumbersTheApiReturnsAndKeepsAScreenshot) {
  const std::string chromium = find_chromium();
  if (chromium.empty()) GTEST_SKIP() << "dashboard test skipped: chromium is not installed";
  ServerProcess server({"--rate-limit", "0"});
  ASSERT_TRUE(server.running()) << server.process().err();
  HttpClient c = server.client();
  post_sample_traffic(c);
  const std::string range = "?from=2025-01-01&to=2025-01-31";
  std::map<std::string, json> api;
  for (const char* view : {"installations", "platforms", "errors", "updates", "usage"}) {
    HttpReply r = c.get(std::string("/api/v1/stats/") + view + range);
    ASSERT_EQ(r.status, 200);
    api[view] = r.json();
  }

  RunResult dom = run_chromium(chromium, server.url("/" + range), "--dump-dom");
  ASSERT_EQ(dom.exit_code, 0) << dom.err;
  ASSERT_NE(dom.out.find("data-ready=\"true\""), std::string::npos) << dom.out.substr(0, 2000);

  auto shown = metrics_in(dom.out);
  std::map<std::string, json> expected = {
      {"installations.total", api["installations"]["total"]},
      {"updates.successRate", api["updates"]["successRate"]},
      {"updates.succeeded", api["updates"]["succeeded"]},
      {"updates.failed", api["updates"]["failed"]},
      {"errors.crashes", api["errors"]["crashes"]},
      {"errors.errors", api["errors"]["errors"]},
      {"usage.summaries", api["usage"]["summaries"]},
      {"usage.avgStartupTimeMs", api["usage"]["avgStartupTimeMs"]},
  };
  for (const auto& [os, n] : api["installations"]["byOs"].items()) {
    expected["installations.byOs." + os] = n;
  }
  for (const auto& [v, n] : api["installations"]["byVersion"].items()) {
    expected["installations.byVersion." + v] = n;
  }
  for (const auto& item : api["errors"]["byCategory"]) {
    expected["errors.byCategory." + item["name"].get<std::string>()] = item["count"];
  }
  for (const auto& item : api["errors"]["byComponent"]) {
    expected["errors.byComponent." + item["name"].get<std::string>()] = item["count"];
  }
  for (const auto& f : api["usage"]["features"]) {
    expected["usage.features." + f["name"].get<std::string>() + ".total"] = f["total"];
  }
  for (const auto& [arch, n] : api["platforms"]["installations"]["byArch"].items()) {
    expected["platforms.installations.byArch." + arch] = n;
  }
  EXPECT_GT(api["installations"]["total"].get<int>(), 50);
  for (const auto& [name, value] : expected) {
    ASSERT_TRUE(shown.count(name)) << name << " is not on the page";
    EXPECT_EQ(json::parse(shown[name]), value) << name;
  }

  // The screenshot, kept for people to look at.
  const std::string png = (test_artifacts() / "server-dashboard.png").string();
  std::filesystem::remove(png);
  RunResult shot = run_chromium(chromium, server.url("/" + range), "--screenshot=" + png);
  ASSERT_EQ(shot.exit_code, 0) << shot.err;
  std::ifstream in(png, std::ios::binary);
  std::string head(8, '\0');
  in.read(head.data(), 8);
  EXPECT_EQ(head.substr(1, 3), "PNG");
  EXPECT_GT(std::filesystem::file_size(png), 20000u);
  EXPECT_EQ(server.stop(), 0);
}

}  // namespace
}  // namespace dollhouse::testing
