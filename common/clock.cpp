// The platform-free part of the clock and UUIDs; the system random source is in clock_posix.cpp
// (getrandom) and clock_windows.cpp (BCryptGenRandom).
#include "common/clock.hpp"

#include <cstdio>

namespace dollhouse {

const SystemClock& SystemClock::instance() {
  static const SystemClock clock;
  return clock;
}

std::string make_uuid_v4(RandomSource& random) {
  unsigned char b[16];
  random.fill(b, sizeof b);
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(hex[b[i] >> 4]);
    out.push_back(hex[b[i] & 0x0f]);
  }
  return out;
}

bool is_uuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

std::int64_t to_unix_millis(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

SystemTime from_unix_millis(std::int64_t ms) {
  return SystemTime(
      std::chrono::duration_cast<SystemTime::duration>(std::chrono::milliseconds(ms)));
}

std::string format_iso8601(SystemTime t) {
  // Calendar arithmetic from <chrono>: no gmtime, so every platform agrees, before 1970 too.
  using namespace std::chrono;
  const auto ms = time_point_cast<milliseconds>(t);
  const auto day_start = floor<days>(ms);
  const year_month_day date(day_start);
  const hh_mm_ss<milliseconds> time(ms - day_start);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", int(date.year()),
                unsigned(date.month()), unsigned(date.day()), int(time.hours().count()),
                int(time.minutes().count()), int(time.seconds().count()),
                int(time.subseconds().count()));
  return buf;
}

bool parse_iso8601(const std::string& text, SystemTime& out) {
  int y, mo, d, h, mi, s;
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &consumed) !=
      6) {
    return false;
  }
  std::size_t pos = static_cast<std::size_t>(consumed);
  int millis = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 3) millis = millis * 10 + (text[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return false;
    for (int i = digits; i < 3; ++i) millis *= 10;
  }
  if (pos + 1 != text.size() || text[pos] != 'Z') return false;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return false;
  if (h < 0 || mi < 0 || s < 0 || y < kMinIsoYear || y > kMaxIsoYear) return false;
  // A date that does not exist ("02-30") is refused rather than rolled over into March.
  using namespace std::chrono;
  const year_month_day date(year(y), month(static_cast<unsigned>(mo)),
                            day(static_cast<unsigned>(d)));
  if (!date.ok()) return false;
  const auto at = sys_days(date) + hours(h) + minutes(mi) + seconds(s) + milliseconds(millis);
  out = time_point_cast<SystemTime::duration>(at);
  return true;
}

}  // namespace dollhouse
