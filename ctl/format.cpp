#include "ctl/format.hpp"

#include <cstdlib>

namespace dollhouse::ctl {

std::string relative_time(const std::string& iso, SystemTime now) {
  SystemTime t;
  if (!parse_iso8601(iso, t)) return iso;
  std::int64_t secs = (to_unix_millis(now) - to_unix_millis(t)) / 1000;
  bool future = secs < 0;
  std::int64_t a = std::llabs(secs);
  if (a < 45) return "just now";
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
