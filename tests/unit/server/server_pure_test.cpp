// Pure parts of the server: rollup, event days, token bucket, gzip bounds, target parsing.
#include <gtest/gtest.h>

#include "server/aggregation/rollup.hpp"
#include "server/http/gzip.hpp"
#include "server/http/message.hpp"
#include "server/rate_limiter.hpp"
#include "server/run_server.hpp"
#include "tests/unit/server/fake_clock.hpp"
#include "tests/unit/server/server_samples.hpp"

namespace dollhouse::server {
namespace {

using namespace samples;
using namespace std::chrono_literals;

double value(const AggregateRows& rows, const std::string& day, const std::string& metric,
             const std::string& dim) {
  auto it = rows.find({day, kSampleApp, metric, dim});
  return it == rows.end() ? 0.0 : it->second;
}

TEST(Rollup, CountsInstallationsByEveryDimension) {
  AggregateRows rows;
  roll_up_event("2025-01-13", stamp(installation("docker", "upgrade"), uuid(1), "macos"), rows);
  roll_up_event("2025-01-13", stamp(installation(), uuid(2)), rows);
  EXPECT_EQ(value(rows, "2025-01-13", "installations", "total"), 2);
  EXPECT_EQ(value(rows, "2025-01-13", "installations.os", "macos"), 1);
  EXPECT_EQ(value(rows, "2025-01-13", "installations.os", "linux"), 1);
  EXPECT_EQ(value(rows, "2025-01-13", "installations.method", "docker"), 1);
  EXPECT_EQ(value(rows, "2025-01-13", "installations.type", "upgrade"), 1);
  EXPECT_EQ(value(rows, "2025-01-13", "installations.version", "1.9.16"), 2);
  EXPECT_EQ(value(rows, "2025-01-13", "installations.arch", "x64"), 2);
}

TEST(Rollup, NeverKeepsAnInstallIdOrMessage) {
  AggregateRows rows;
  for (const auto& e : {installation(), update(false), crash(), error_event(), weekly()}) {
    roll_up_event("2025-01-13", stamp(e, uuid(42)), rows);
  }
  for (const auto& [key, v] : rows) {
    EXPECT_EQ(key.dim.find(uuid(42)), std::string::npos) << key.metric;
    EXPECT_EQ(key.dim.find("Cannot find"), std::string::npos) << key.metric;
  }
}

TEST(Rollup, UpdatesErrorsAndWeeklySummaries) {
  AggregateRows rows;
  roll_up_event("d", stamp(update(true), uuid(1)), rows);
  roll_up_event("d", stamp(update(false), uuid(1)), rows);
  roll_up_event("d", stamp(crash("A", "X"), uuid(1)), rows);
  roll_up_event("d", stamp(error_event("B", "Y"), uuid(1)), rows);
  roll_up_event("d", stamp(weekly(3, 800), uuid(1)), rows);
  roll_up_event("d", stamp(weekly(5, 600), uuid(2)), rows);
  EXPECT_EQ(value(rows, "d", "updates.outcome", "success"), 1);
  EXPECT_EQ(value(rows, "d", "updates.outcome", "failure"), 1);
  EXPECT_EQ(value(rows, "d", "updates.errorCategory", "network"), 1);
  EXPECT_EQ(value(rows, "d", "errors.kind", "crash"), 1);
  EXPECT_EQ(value(rows, "d", "errors.kind", "error"), 1);
  EXPECT_EQ(value(rows, "d", "errors.category", "A"), 1);
  EXPECT_EQ(value(rows, "d", "errors.component", "Y"), 1);
  EXPECT_EQ(value(rows, "d", "usage.summaries", "count"), 2);
  EXPECT_EQ(value(rows, "d", "usage.feature", "personasUsed"), 8);
  EXPECT_EQ(value(rows, "d", "usage.avgStartupTime", "sum"), 1400);
  EXPECT_EQ(value(rows, "d", "usage.avgStartupTime", "count"), 2);
  EXPECT_EQ(value(rows, "d", "active.os", "linux"), 2);
}

TEST(Rollup, SkipsBodiesThatAreNotJson) {
  auto rows =
      roll_up({{"crash", "d", "{not json"}, {"crash", "d", stamp(crash(), uuid(1)).dump()}});
  EXPECT_EQ(value(rows, "d", "errors.kind", "crash"), 1);
}

TEST(EventDay, UsesTheTimestampUnlessItIsInTheFuture) {
  const SystemTime received = at("2025-01-15T00:10:00Z");
  EXPECT_EQ(event_day(stamp(crash(), uuid(1)), received), "2025-01-13");
  json future = stamp(crash(), uuid(1), "linux", "1.0.0", "2025-02-01T00:00:00Z");
  EXPECT_EQ(event_day(future, received), "2025-01-15");
  EXPECT_EQ(event_day(json::object(), received), "2025-01-15");
}

TEST(TokenBucket, AllowsABurstThenAsksToRetryAfterTheRefill) {
  BucketState state{2, at("2025-01-13T00:00:00Z")};
  SystemTime now = state.last;
  EXPECT_TRUE(take_token(state, now, 0.5, 2).allowed);
  EXPECT_TRUE(take_token(state, now, 0.5, 2).allowed);
  BucketDecision d = take_token(state, now, 0.5, 2);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_seconds, 2);
  EXPECT_TRUE(take_token(state, now + 2s, 0.5, 2).allowed);
  EXPECT_FALSE(take_token(state, now + 2s, 0.5, 2).allowed);
  // Refill never exceeds the burst.
  EXPECT_TRUE(take_token(state, now + 1h, 0.5, 2).allowed);
  EXPECT_TRUE(take_token(state, now + 1h, 0.5, 2).allowed);
  EXPECT_FALSE(take_token(state, now + 1h, 0.5, 2).allowed);
}

TEST(TokenBucket, ZeroRateMeansUnlimited) {
  BucketState state{0, {}};
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(take_token(state, {}, 0, 0).allowed);
}

TEST(Gzip, RoundTripsAndBoundsTheInflatedSize) {
  const std::string plain(100000, 'x');
  const std::string packed = deflate_gzip(plain);
  EXPECT_LT(packed.size(), 1000u);
  auto out = inflate_gzip(packed, plain.size());
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(*out, plain);
  auto bomb = inflate_gzip(packed, plain.size() - 1);
  ASSERT_FALSE(bomb.is_ok());
  EXPECT_EQ(bomb.status().code(), "too_large");
}

TEST(Gzip, RejectsGarbageAndTruncatedStreams) {
  EXPECT_EQ(inflate_gzip("not gzip at all", 1000).status().code(), "bad_encoding");
  const std::string packed = deflate_gzip(std::string(5000, 'y'));
  EXPECT_EQ(inflate_gzip(packed.substr(0, packed.size() / 2), 100000).status().code(),
            "bad_encoding");
  EXPECT_EQ(inflate_gzip("", 1000).status().code(), "bad_encoding");
}

TEST(Target, SplitsPathAndDecodesQuery) {
  std::string path;
  std::map<std::string, std::string> query;
  ASSERT_TRUE(
      parse_target("/api/v1/stats/errors?from=2025-01-01&to=2025%2D01%2D31&x", path, query));
  EXPECT_EQ(path, "/api/v1/stats/errors");
  EXPECT_EQ(query["from"], "2025-01-01");
  EXPECT_EQ(query["to"], "2025-01-31");
  EXPECT_FALSE(parse_target("/x?a=%zz", path, query));
  EXPECT_FALSE(parse_target("/x%2", path, query));
  EXPECT_FALSE(parse_target("http://host/x", path, query));
}

TEST(ListenAddress, ParsesHostAndPort) {
  std::string host;
  std::uint16_t port = 0;
  ASSERT_TRUE(parse_listen_address("127.0.0.1:8080", host, port));
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 8080);
  ASSERT_TRUE(parse_listen_address("[::1]:0", host, port));
  EXPECT_EQ(host, "::1");
  EXPECT_FALSE(parse_listen_address("127.0.0.1", host, port));
  EXPECT_FALSE(parse_listen_address("127.0.0.1:99999", host, port));
  EXPECT_FALSE(parse_listen_address(":80", host, port));
}

}  // namespace
}  // namespace dollhouse::server
