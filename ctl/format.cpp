#include "ctl/format.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string_view>

namespace dollhouse::ctl {

namespace {

// `n` decimal digits of `s` at `pos` into `out`; false when they are not all there.
bool read_digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int value = 0;
  for (std::size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  out = value;
  return true;
}

bool is_shell_safe(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '/' || c == '.' || c == ':' || c == '-';
}

}  // namespace

std::string relative_time(const std::string& iso, SystemTime now) {
  SystemTime t;
  if (!parse_iso8601(iso, t)) return iso;
  std::int64_t secs = (to_unix_millis(now) - to_unix_millis(t)) / 1000;
  bool future = secs < 0;
  std::int64_t a = std::llabs(secs);
  if (a < 45) return future ? "in less than a minute" : "just now";
  struct Unit {
    std::int64_t seconds;
    const char* name;
  };
  static constexpr Unit kUnits[] = {
      {86400 * 365, "year"}, {86400 * 30, "month"}, {86400, "day"}, {3600, "hour"}, {60, "minute"}};
  for (const auto& u : kUnits) {
    if (a >= u.seconds) {
      std::int64_t n = (a + u.seconds / 2) / u.seconds;
      std::string text = std::to_string(n) + " " + u.name + (n == 1 ? "" : "s");
      return future ? "in " + text : text + " ago";
    }
  }
  // 45 to 59 seconds: past "just now", under every unit; rounds to one minute.
  return future ? "in 1 minute" : "1 minute ago";
}

bool parse_user_time(const std::string& text, SystemTime& out) {
  using namespace std::chrono;
  const std::string_view s(text);
  int y = 0, mo = 0, d = 0;
  if (!read_digits(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !read_digits(s, 5, 2, mo) ||
      s[7] != '-' || !read_digits(s, 8, 2, d)) {
    return false;
  }
  const year_month_day date(year(y), month(static_cast<unsigned>(mo)),
                            day(static_cast<unsigned>(d)));
  if (!date.ok()) return false;
  sys_time<milliseconds> at = sys_days(date);
  std::size_t pos = 10;
  if (pos < s.size()) {
    if (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') return false;
    int h = 0, mi = 0, sec = 0, millis = 0;
    if (!read_digits(s, pos + 1, 2, h) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !read_digits(s, pos + 4, 2, mi)) {
      return false;
    }
    pos += 6;
    if (pos < s.size() && s[pos] == ':') {
      if (!read_digits(s, pos + 1, 2, sec)) return false;
      pos += 3;
      if (pos < s.size() && s[pos] == '.') {
        ++pos;
        std::size_t digits = 0;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
          if (digits < 3) millis = millis * 10 + (s[pos] - '0');
          ++digits;
          ++pos;
        }
        if (digits == 0) return false;
        for (std::size_t i = digits; i < 3; ++i) millis *= 10;
      }
    }
    if (h > 23 || mi > 59 || sec > 60) return false;
    // The zone: required, since a bare time means different instants on different machines.
    if (pos >= s.size()) return false;
    minutes offset{0};
    if (s[pos] == 'Z' || s[pos] == 'z') {
      ++pos;
    } else if (s[pos] == '+' || s[pos] == '-') {
      const int sign = s[pos] == '-' ? -1 : 1;
      int oh = 0, om = 0;
      if (!read_digits(s, pos + 1, 2, oh)) return false;
      pos += 3;
      if (pos < s.size() && s[pos] == ':') ++pos;
      if (!read_digits(s, pos, 2, om)) return false;
      pos += 2;
      if (oh > 23 || om > 59) return false;
      offset = minutes(sign * (oh * 60 + om));
    } else {
      return false;
    }
    if (pos != s.size()) return false;
    at += hours(h) + minutes(mi) + seconds(sec) + milliseconds(millis);
    at -= offset;  // 10:00+01:00 is 09:00Z
  }
  const int utc_year = int(year_month_day(floor<days>(at)).year());
  if (utc_year < kMinIsoYear || utc_year > kMaxIsoYear) return false;
  out = time_point_cast<SystemTime::duration>(at);
  return true;
}

std::string shell_quote(const std::string& text) {
  if (!text.empty() && std::all_of(text.begin(), text.end(), is_shell_safe)) return text;
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  out.push_back('\'');
  return out;
}

std::string output_tail(const std::string& text, std::size_t max_lines, std::size_t max_bytes) {
  const std::size_t last = text.find_last_not_of(" \t\r\n");
  if (last == std::string::npos) return {};
  const std::string_view kept(text.data(), last + 1);
  // Whole lines from the end while they fit; `start` is where the kept part begins (0, or just
  // after a newline).
  std::size_t start = kept.size();
  std::size_t lines = 0;
  while (start > 0 && lines < max_lines) {
    const std::size_t line_end = start == kept.size() ? start : start - 1;  // its newline
    const std::size_t newline =
        line_end == 0 ? std::string_view::npos : kept.rfind('\n', line_end - 1);
    const std::size_t line_start = newline == std::string_view::npos ? 0 : newline + 1;
    if (lines > 0 && kept.size() - line_start > max_bytes) break;
    start = line_start;
    ++lines;
  }
  bool cut = start > 0;
  std::string_view tail = kept.substr(start);
  if (tail.size() > max_bytes) {  // a last line longer than the budget: keep its end
    tail = tail.substr(tail.size() - max_bytes);
    cut = true;
  }
  std::string result = cut ? "(earlier output left out)\n" : "";
  result.append(tail);
  return result;
}

std::string aligned_rows(const std::vector<std::pair<std::string, std::string>>& rows) {
  std::size_t width = 0;
  for (const auto& [label, value] : rows) width = std::max(width, label.size());
  std::string out;
  for (const auto& [label, value] : rows) {
    std::string pad(width - label.size() + 2, ' ');
    std::string indent(width + 2, ' ');
    out += label + pad;
    for (char c : value) {
      out.push_back(c);
      if (c == '\n') out += indent;
    }
    out.push_back('\n');
  }
  return out;
}

}  // namespace dollhouse::ctl
