// Upload policy: backoff windows, Retry-After, status classes and ingestion URLs, with a fixed
// random source and fixed clocks (no waiting).
#include "daemon/upload/upload_policy.hpp"

#include <gtest/gtest.h>

#include <cstring>

namespace dollhouse::daemon {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

// Returns the same 64-bit value every time.
class FixedRandom final : public RandomSource {
 public:
  explicit FixedRandom(std::uint64_t value) : value_(value) {}
  void fill(unsigned char* buf, std::size_t n) override {
    for (std::size_t i = 0; i < n; ++i) buf[i] = reinterpret_cast<unsigned char*>(&value_)[i % 8];
  }

 private:
  std::uint64_t value_;
};

// A deterministic sequence, to see the jitter spread over the window.
class CountingRandom final : public RandomSource {
 public:
  void fill(unsigned char* buf, std::size_t n) override {
    std::uint64_t v = next_ += 0x9E3779B97F4A7C15ull;
    std::memcpy(buf, &v, std::min<std::size_t>(n, sizeof v));
  }

 private:
  std::uint64_t next_ = 0;
};

TEST(Backoff, WindowDoublesFromTheBaseUpToTheCap) {
  const Millis base(1000);
  const Millis cap = std::chrono::duration_cast<Millis>(hours(6));
  std::vector<std::int64_t> windows;
  for (int failures = 1; failures <= 20; ++failures) {
    // The window is the largest delay over many draws.
    CountingRandom random;
    std::int64_t largest = 0;
    for (int i = 0; i < 2000; ++i) {
      largest = std::max(largest, backoff_delay(failures, base, cap, random).count());
    }
    windows.push_back(largest);
  }
  for (std::size_t i = 0; i + 1 < windows.size(); ++i) {
    EXPECT_LE(windows[i], windows[i + 1]);
    EXPECT_LE(windows[i], cap.count());
  }
  // Early windows double (to within the sampling), late ones sit at the cap.
  EXPECT_GT(windows[1], windows[0] * 3 / 2);
  EXPECT_GT(windows[19], cap.count() * 9 / 10);
}

TEST(Backoff, FullJitterSpreadsOverTheWholeWindow) {
  CountingRandom random;
  const Millis base(1000), cap(60'000);
  std::int64_t below_half = 0, above_half = 0;
  for (int i = 0; i < 1000; ++i) {
    auto d = backoff_delay(4, base, cap, random).count();  // window 8 s
    ASSERT_GE(d, 0);
    ASSERT_LE(d, 8000);
    (d < 4000 ? below_half : above_half)++;
  }
  EXPECT_GT(below_half, 300);
  EXPECT_GT(above_half, 300);
}

TEST(Backoff, NoFailureMeansNoDelayAndHugeCountsDoNotOverflow) {
  FixedRandom random(12345);
  EXPECT_EQ(backoff_delay(0, Millis(1000), Millis(5000), random).count(), 0);
  auto d = backoff_delay(10'000, Millis(1000), Millis(5000), random);
  EXPECT_GE(d.count(), 0);
  EXPECT_LE(d.count(), 5000);
}

TEST(RetryAfter, SecondsAndHttpDatesRelativeToNow) {
  SystemTime now;
  ASSERT_TRUE(parse_iso8601("2026-10-21T07:27:00Z", now));
  EXPECT_EQ(parse_retry_after("120", now), Millis(120'000));
  EXPECT_EQ(parse_retry_after(" 0 ", now), Millis(0));
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT", now), Millis(60'000));
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2026 07:00:00 GMT", now), Millis(0)) << "past: now";
  EXPECT_FALSE(parse_retry_after("", now));
  EXPECT_FALSE(parse_retry_after("soon", now));
  EXPECT_FALSE(parse_retry_after("-5", now));
  EXPECT_FALSE(parse_retry_after("Wed, 21 Oct 2026 07:28:00", now)) << "no zone";
  EXPECT_FALSE(parse_retry_after("Sat, 31 Nov 2026 07:28:00 GMT", now)) << "no such day";
  EXPECT_FALSE(parse_retry_after("Wed, 21 Okt 2026 07:28:00 GMT", now)) << "no such month";
  // Far-future dates are read (the caller caps the wait), with no overflow on the way.
  auto far = parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now);
  ASSERT_TRUE(far);
  EXPECT_GT(*far, Millis(std::int64_t{7900} * 365 * 24 * 3600 * 1000));
}

TEST(StatusClasses, RetryOnlyWhatMaySucceedLater) {
  EXPECT_EQ(classify_status(200), UploadOutcome::kDelivered);
  EXPECT_EQ(classify_status(202), UploadOutcome::kDelivered);
  EXPECT_EQ(classify_status(204), UploadOutcome::kDelivered);
  for (int s : {0, 100, 301, 302, 304, 308, 408, 429, 500, 502, 503, 504}) {
    EXPECT_EQ(classify_status(s), UploadOutcome::kRetry) << s;
  }
  for (int s : {400, 401, 403, 404, 410, 413, 422}) {
    EXPECT_EQ(classify_status(s), UploadOutcome::kDropBatch) << s;
  }
}

TEST(Endpoints, HttpsAnywhereHttpOnlyToLoopback) {
  auto e = parse_endpoint("https://telemetry.dollhousemcp.com/api/v1/telemetry");
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->tls);
  EXPECT_EQ(e->host, "telemetry.dollhousemcp.com");
  EXPECT_EQ(e->port, "443");
  EXPECT_EQ(e->target, "/api/v1/telemetry");
  EXPECT_EQ(e->deletion_target("abc"), "/api/v1/telemetry/abc");

  auto local = parse_endpoint("http://127.0.0.1:8080/api/v1/telemetry");
  ASSERT_TRUE(local);
  EXPECT_FALSE(local->tls);
  EXPECT_EQ(local->port, "8080");
  EXPECT_TRUE(parse_endpoint("http://localhost/x"));
  auto v6 = parse_endpoint("http://[::1]:9/x");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");

  for (const char* bad : {"http://telemetry.example.com/x", "http://10.0.0.1/x",
                          "http://127.0.0.1.evil.com/x", "ftp://host/x", "https://:443/x",
                          "https://host:99999/x", "https://user:pw@host/x", "telemetry"}) {
    EXPECT_FALSE(parse_endpoint(bad)) << bad;
  }
  EXPECT_EQ(parse_endpoint("http://example.com/").status().code(), "insecure_endpoint");
}

TEST(Endpoints, LoopbackHosts) {
  for (const char* h : {"127.0.0.1", "127.1.2.3", "::1", "localhost"}) {
    EXPECT_TRUE(is_loopback_host(h)) << h;
  }
  for (const char* h : {"128.0.0.1", "127.0.0", "127.0.0.256", "localhost.example", "0.0.0.0"}) {
    EXPECT_FALSE(is_loopback_host(h)) << h;
  }
}

}  // namespace
}  // namespace dollhouse::daemon
