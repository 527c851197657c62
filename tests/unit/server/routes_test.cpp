// Route handlers called directly (no sockets): ingest, dedup, privacy re-check, deletion, stats
// over aggregates plus raw events, aggregation driven by an injected clock, and request limits.
#include <gtest/gtest.h>

#include "server/aggregation/rollup.hpp"
#include "tests/unit/server/routes_fixture.hpp"

namespace dollhouse::server {
namespace {

using namespace samples;
using namespace std::chrono_literals;

using Routes = RoutesFixture;

TEST_F(Routes, IngestAcceptsABatchAndAnswersWithCounts) {
  Response r = post(
      batch(uuid(1), uuid(100), {stamp(installation(), uuid(1)), stamp(update(true), uuid(1))}));
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(json::parse(r.body), json({{"accepted", 2}, {"rejected", 0}, {"duplicate", false}}));
  EXPECT_EQ(raw_events(), 2);
}

TEST_F(Routes, ARetriedBatchIsAcknowledgedButNotStoredTwice) {
  const json b = batch(uuid(1), uuid(100), {stamp(crash(), uuid(1))});
  ASSERT_EQ(post(b).status, 202);
  Response again = post(b);
  EXPECT_EQ(again.status, 202);
  EXPECT_EQ(json::parse(again.body)["duplicate"], true);
  EXPECT_EQ(json::parse(again.body)["accepted"], 1);
  EXPECT_EQ(raw_events(), 1);
  EXPECT_EQ(ctx_->counters.batches_duplicate.load(), 1u);
}

TEST_F(Routes, EventsWithPersonalDataAreRejectedCountedAndNeverStored) {
  Response r = post(batch(uuid(1), uuid(100),
                          {stamp(crash_with_pii(), uuid(1)), stamp(installation(), uuid(1))}));
  ASSERT_EQ(r.status, 202);
  json body = json::parse(r.body);
  EXPECT_EQ(body["accepted"], 1);
  EXPECT_EQ(body["rejected"], 1);
  EXPECT_EQ(body["rejections"][0]["code"], "pii_detected");
  EXPECT_EQ(body["rejections"][0]["index"], 0);
  EXPECT_EQ(r.body.find("1.2.3.4"), std::string::npos);
  EXPECT_EQ(raw_events(), 1);
  EXPECT_EQ(ctx_->counters.events_rejected_pii.load(), 1u);
  auto raw = storage_->raw_events("2025-01-01", "2025-12-31");
  for (const auto& e : *raw) EXPECT_EQ(e.body.find("1.2.3.4"), std::string::npos);
  EXPECT_EQ(stats("ingest")["rejectedByReason"]["pii_detected"], 1);
}

TEST_F(Routes, EventsOfAnotherInstallationOrWithSchemaErrorsAreRejected) {
  json bad_enum = stamp(crash(), uuid(1));
  bad_enum["errorType"] = "sometimes";
  Response r = post(batch(uuid(1), uuid(100), {stamp(crash(), uuid(2)), bad_enum, 42}));
  ASSERT_EQ(r.status, 202);
  json body = json::parse(r.body);
  EXPECT_EQ(body["accepted"], 0);
  EXPECT_EQ(body["rejected"], 3);
  EXPECT_EQ(body["rejections"][0]["code"], "install_mismatch");
  EXPECT_EQ(body["rejections"][1]["code"], "invalid_event");
  EXPECT_EQ(body["rejections"][1]["path"], "/errorType");
}

TEST_F(Routes, MalformedBodiesAre400WithAReason) {
  EXPECT_EQ(post(json("{not json")).status, 400);
  EXPECT_EQ(json::parse(post(json("{not json")).body)["error"]["code"], "invalid_json");
  EXPECT_EQ(post(json::array()).status, 400);
  EXPECT_EQ(post({{"installId", "nope"}, {"batchId", uuid(1)}, {"events", json::array()}}).status,
            400);
  EXPECT_EQ(post({{"installId", uuid(1)}, {"batchId", uuid(2)}}).status, 400);
  EXPECT_EQ(post({{"installId", uuid(1)}, {"batchId", uuid(2)}, {"events", 3}}).status, 400);
  EXPECT_EQ(post(batch(uuid(1), uuid(2), json::array()), "text/plain").status, 415);
  EXPECT_EQ(raw_events(), 0);
}

TEST_F(Routes, IdempotencyKeyMustMatchTheBatchId) {
  Request r;
  r.method = "POST";
  r.path = "/api/v1/events";
  r.content_type = "application/json; charset=utf-8";
  r.idempotency_key = uuid(999);
  r.body = batch(uuid(1), uuid(100), json::array()).dump();
  EXPECT_EQ(route(*ctx_, r).status, 400);
  r.idempotency_key = uuid(100);
  EXPECT_EQ(route(*ctx_, r).status, 202);
}

TEST_F(Routes, AnotherMajorProtocolVersionIs400) {
  Request r;
  r.method = "POST";
  r.path = "/api/v1/telemetry";
  r.content_type = "application/json";
  r.telemetry_version = "2.0";
  r.body = batch(uuid(1), uuid(100), json::array()).dump();
  EXPECT_EQ(route(*ctx_, r).status, 400);
  r.telemetry_version = "1.3";
  EXPECT_EQ(route(*ctx_, r).status, 202);
}

TEST_F(Routes, TooManyEventsIs413) {
  json events = json::array();
  for (int i = 0; i < 1001; ++i) events.push_back(stamp(crash(), uuid(1)));
  EXPECT_EQ(post(batch(uuid(1), uuid(100), events)).status, 413);
}

TEST_F(Routes, WritesBeyondTheRateAre429WithRetryAfter) {
  TokenBucket tight(1, 2, clock_.now());
  ServerContext ctx{*storage_, clock_, scrubber_, tight, Limits{}, {}, clock_.now(), ""};
  Request r;
  r.method = "POST";
  r.path = "/api/v1/telemetry";
  r.content_type = "application/json";
  r.body = batch(uuid(1), uuid(100), json::array()).dump();
  EXPECT_EQ(route(ctx, r).status, 202);
  EXPECT_EQ(route(ctx, r).status, 202);
  Response limited = route(ctx, r);
  EXPECT_EQ(limited.status, 429);
  ASSERT_EQ(limited.headers.size(), 1u);
  EXPECT_EQ(limited.headers[0], (std::pair<std::string, std::string>{"Retry-After", "1"}));
  clock_.advance(1s);
  EXPECT_EQ(route(ctx, r).status, 202);
}

TEST_F(Routes, DeletionIs204Then404AndNeedsAUuid) {
  ASSERT_EQ(post(batch(uuid(1), uuid(100), {stamp(crash(), uuid(1))})).status, 202);
  EXPECT_EQ(request("DELETE", "/api/v1/telemetry/" + uuid(1)).status, 204);
  EXPECT_EQ(request("DELETE", "/api/v1/telemetry/" + uuid(1)).status, 404);
  EXPECT_EQ(request("DELETE", "/api/v1/telemetry/not-a-uuid").status, 400);
  EXPECT_EQ(raw_events(), 0);
  EXPECT_EQ(stats("errors")["total"], 0);
}

TEST_F(Routes, UnknownPathsAndMethods) {
  EXPECT_EQ(request("GET", "/nope").status, 404);
  Response r = request("GET", "/api/v1/telemetry");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(request("POST", "/healthz").status, 405);
  EXPECT_EQ(request("GET", "/api/v1/stats/everything").status, 404);
}

TEST_F(Routes, StatsAreTheSameBeforeAndAfterAggregation) {
  ASSERT_EQ(post(batch(uuid(1), uuid(100),
                       {stamp(installation(), uuid(1)), stamp(update(true), uuid(1)),
                        stamp(update(false), uuid(1)), stamp(crash("A", "X"), uuid(1)),
                        stamp(error_event("B", "Y"), uuid(1)), stamp(weekly(3, 800), uuid(1))}))
                .status,
            202);
  ASSERT_EQ(post(batch(uuid(2), uuid(101),
                       {stamp(installation("docker"), uuid(2), "windows"),
                        stamp(crash("A", "Z"), uuid(2)), stamp(weekly(5, 600), uuid(2))}))
                .status,
            202);
  std::map<std::string, json> before;
  for (const char* v : {"installations", "platforms", "errors", "updates", "usage"}) {
    before[v] = stats(v);
  }
  EXPECT_EQ(before["installations"]["total"], 2);
  EXPECT_EQ(before["installations"]["byOs"], json({{"linux", 1}, {"windows", 1}}));
  EXPECT_EQ(before["updates"]["successRate"], 0.5);
  EXPECT_EQ(before["errors"]["byCategory"][0], json({{"name", "A"}, {"count", 2}}));
  EXPECT_EQ(before["usage"]["avgStartupTimeMs"], 700);
  EXPECT_EQ(before["usage"]["summaries"], 2);

  // The aggregation job at +25 h (injected clock) rolls everything up and deletes the raw rows.
  clock_.advance(25h);
  auto report = run_aggregation(*storage_, clock_.now(), RetentionPolicy{});
  ASSERT_TRUE(report.is_ok());
  EXPECT_EQ(report->events_rolled_up, 9u);
  EXPECT_EQ(raw_events(), 0);
  for (const auto& [view, body] : before) EXPECT_EQ(stats(view), body) << view;
}

TEST_F(Routes, StatsValidateTheirDateRange) {
  EXPECT_EQ(request("GET", "/api/v1/stats/errors", {{"from", "2025-13-01"}}).status, 400);
  EXPECT_EQ(
      request("GET", "/api/v1/stats/errors", {{"from", "2025-01-31"}, {"to", "2025-01-01"}}).status,
      400);
  EXPECT_EQ(
      request("GET", "/api/v1/stats/errors", {{"from", "2020-01-01"}, {"to", "2025-01-01"}}).status,
      400);
  // Default: the 30 days ending today (by the injected clock).
  Response r = request("GET", "/api/v1/stats/installations");
  ASSERT_EQ(r.status, 200);
  json body = json::parse(r.body);
  EXPECT_EQ(body["to"], "2025-01-13");
  EXPECT_EQ(body["from"], "2024-12-15");
  EXPECT_EQ(body["byDay"].size(), 30u);
}

TEST_F(Routes, HealthAndDashboard) {
  Response h = request("GET", "/healthz");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(json::parse(h.body)["storage"], "sqlite");
  Response page = request("GET", "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  EXPECT_NE(page.body.find("dashboard.js"), std::string::npos);
  EXPECT_EQ(page.body.find("http://"), std::string::npos);
  EXPECT_EQ(page.body.find("https://"), std::string::npos);
  EXPECT_EQ(request("GET", "/dashboard.js").content_type, "text/javascript; charset=utf-8");
}

}  // namespace
}  // namespace dollhouse::server
