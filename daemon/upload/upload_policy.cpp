#include "daemon/upload/upload_policy.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>

namespace dollhouse::daemon {

namespace {

// "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 IMF-fixdate), with <chrono> calendar arithmetic so
// every platform reads it the same way (no strptime or timegm).
// Returns Unix milliseconds; any year sscanf can read fits (no nanosecond SystemTime involved).
std::optional<std::int64_t> parse_imf_fixdate(std::string_view value) {
  static constexpr std::array<const char*, 7> kDays = {"Mon", "Tue", "Wed", "Thu",
                                                       "Fri", "Sat", "Sun"};
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::string text(value);
  char weekday[4] = {};
  char month_name[4] = {};
  int d = 0, y = 0, h = 0, mi = 0, sec = 0, consumed = 0;
  if (std::sscanf(text.c_str(), "%3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d GMT%n", weekday, &d,
                  month_name, &y, &h, &mi, &sec, &consumed) != 7 ||
      static_cast<std::size_t>(consumed) != text.size()) {
    return std::nullopt;
  }
  auto named = [](const auto& names, const char* name) {
    auto it = std::find_if(names.begin(), names.end(),
                           [name](const char* n) { return std::strcmp(n, name) == 0; });
    return it == names.end() ? -1 : static_cast<int>(it - names.begin());
  };
  const int month_index = named(kMonths, month_name);
  if (named(kDays, weekday) < 0 || month_index < 0) return std::nullopt;
  if (h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60 || d < 1 || d > 31) {
    return std::nullopt;
  }
  using namespace std::chrono;
  const year_month_day date(year(y), month(static_cast<unsigned>(month_index + 1)),
                            day(static_cast<unsigned>(d)));
  if (!date.ok()) return std::nullopt;
  const sys_seconds at = sys_days(date) + hours(h) + minutes(mi) + seconds(sec);
  return duration_cast<milliseconds>(at.time_since_epoch()).count();
}

}  // namespace

Millis backoff_delay(int consecutive_failures, Millis base, Millis cap, RandomSource& random) {
  if (consecutive_failures < 1) return Millis(0);
  // base * 2^(n-1), computed without overflow.
  std::int64_t window = base.count();
  for (int i = 1; i < consecutive_failures && window < cap.count(); ++i) window *= 2;
  window = std::min<std::int64_t>(window, cap.count());
  std::uint64_t r = 0;
  random.fill(reinterpret_cast<unsigned char*>(&r), sizeof r);
  return Millis(static_cast<std::int64_t>(r % (static_cast<std::uint64_t>(window) + 1)));
}

std::optional<Millis> parse_retry_after(std::string_view value, SystemTime now) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    constexpr std::int64_t kYearSeconds = std::int64_t{365} * 24 * 3600;
    std::int64_t seconds = 0;
    auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec != std::errc() || p != value.data() + value.size() || seconds > kYearSeconds) {
      seconds = kYearSeconds;  // absurdly large: the caller caps it
    }
    return Millis(seconds * 1000);
  }
  // IMF-fixdate, the form HTTP/1.1 servers send: "Sun, 06 Nov 1994 08:49:37 GMT".
  auto at = parse_imf_fixdate(value);
  if (!at) return std::nullopt;
  std::int64_t delta = *at - to_unix_millis(now);
  return Millis(std::max<std::int64_t>(delta, 0));
}

UploadOutcome classify_status(int status) {
  if (status >= 200 && status < 300) return UploadOutcome::kDelivered;
  // Only a client error says the batch itself is unacceptable; a redirect or anything else
  // unexpected is retried (the queue must never be emptied by a misconfigured proxy).
  if (status >= 400 && status < 500 && status != 408 && status != 429) {
    return UploadOutcome::kDropBatch;
  }
  return UploadOutcome::kRetry;
}

bool is_loopback_host(std::string_view host) {
  if (host == "localhost" || host == "::1" || host == "0:0:0:0:0:0:0:1") return true;
  // 127.0.0.0/8 in dotted-quad form.
  if (host.substr(0, 4) != "127.") return false;
  int parts = 0;
  std::size_t i = 0;
  while (i <= host.size()) {
    std::size_t dot = host.find('.', i);
    std::string_view part = host.substr(i, dot == std::string_view::npos ? host.npos : dot - i);
    int v = -1;
    auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
    if (ec != std::errc() || p != part.data() + part.size() || v < 0 || v > 255) return false;
    ++parts;
    if (dot == std::string_view::npos) break;
    i = dot + 1;
  }
  return parts == 4;
}

std::string Endpoint::deletion_target(const std::string& install_id) const {
  std::string path = target.substr(0, target.find('?'));
  if (path.empty() || path.back() != '/') path.push_back('/');
  return path + install_id;
}

Result<Endpoint> parse_endpoint(std::string_view url) {
  Endpoint e;
  e.text = std::string(url);
  std::string_view rest;
  if (url.substr(0, 8) == "https://") {
    e.tls = true;
    e.port = "443";
    rest = url.substr(8);
  } else if (url.substr(0, 7) == "http://") {
    e.tls = false;
    e.port = "80";
    rest = url.substr(7);
  } else {
    return Status::error("invalid_endpoint", "the ingestion URL must start with https:// (got \"" +
                                                 std::string(url.substr(0, 40)) + "\")");
  }
  std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  e.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (authority.find('@') != std::string_view::npos) {
    return Status::error("invalid_endpoint", "the ingestion URL must not carry credentials");
  }
  if (!authority.empty() && authority.front() == '[') {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return Status::error("invalid_endpoint", "unclosed [ in the ingestion URL's host");
    }
    e.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return Status::error("invalid_endpoint", "bad port");
      e.port = std::string(after.substr(1));
    }
  } else {
    std::size_t colon = authority.rfind(':');
    e.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) e.port = std::string(authority.substr(colon + 1));
  }
  int port = 0;
  auto [p, ec] = std::from_chars(e.port.data(), e.port.data() + e.port.size(), port);
  if (e.host.empty() || ec != std::errc() || p != e.port.data() + e.port.size() || port < 1 ||
      port > 65535) {
    return Status::error("invalid_endpoint",
                         "the ingestion URL needs a host and a port from 1 to 65535");
  }
  if (!e.tls && !is_loopback_host(e.host)) {
    return Status::error("insecure_endpoint",
                         "plain http:// is allowed only to this machine (127.0.0.1, ::1, "
                         "localhost); use https:// for " +
                             e.host);
  }
  return e;
}

}  // namespace dollhouse::daemon
