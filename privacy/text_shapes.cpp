// Shapes of the structured string fields, and the small public normalisers built on them.
#include "privacy/text_shapes.hpp"

#include <array>

#include "privacy/privacy.hpp"

namespace dollhouse::privacy {
namespace detail {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Reads exactly `count` digits at `pos` into *value.
bool digits(std::string_view s, std::size_t pos, std::size_t count, int* value) {
  if (pos + count > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (!is_digit(s[i])) return false;
    v = v * 10 + (s[i] - '0');
  }
  *value = v;
  return true;
}

int days_in_month(int year, int month) {
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[static_cast<std::size_t>(month - 1)];
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's civil algorithm).
long days_from_civil(int y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const long era = (y >= 0 ? y : y - 399) / 400;
  const long yoe = y - era * 400;
  const long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool parse_date(std::string_view s, int* year, int* month, int* day) {
  if (s.size() < 10 || s[4] != '-' || s[7] != '-') return false;
  if (!digits(s, 0, 4, year) || !digits(s, 5, 2, month) || !digits(s, 8, 2, day)) return false;
  return *year >= 1970 && *month >= 1 && *month <= 12 && *day >= 1 &&
         *day <= days_in_month(*year, *month);
}

}  // namespace

std::string_view cut_utf8(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  std::size_t end = max_bytes;
  // Step back over continuation bytes to the start of the character that does not fit.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

bool is_version(std::string_view s) {
  if (s.empty() || s.size() > kMaxVersionLength) return false;
  std::size_t i = (s[0] == 'v') ? 1 : 0;
  bool need_digit = true;
  for (; i < s.size() && s[i] != '-'; ++i) {
    if (is_digit(s[i])) {
      need_digit = false;
    } else if (s[i] == '.' && !need_digit) {
      need_digit = true;
    } else {
      return false;
    }
  }
  if (need_digit) return false;
  if (i == s.size()) return true;
  if (++i == s.size()) return false;  // "1.2.3-" has an empty pre-release
  for (; i < s.size(); ++i) {
    if (!is_digit(s[i]) && !is_letter(s[i]) && s[i] != '.' && s[i] != '-') return false;
  }
  return true;
}

bool is_utc_timestamp(std::string_view s) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (s.size() < 20 || s.size() > 30 || !parse_date(s, &year, &month, &day)) return false;
  if (s[10] != 'T' || s[13] != ':' || s[16] != ':' || s.back() != 'Z') return false;
  if (!digits(s, 11, 2, &hour) || !digits(s, 14, 2, &minute) || !digits(s, 17, 2, &second)) {
    return false;
  }
  if (hour > 23 || minute > 59 || second > 60) return false;
  const std::string_view rest = s.substr(19, s.size() - 20);
  if (rest.empty()) return true;
  if (rest[0] != '.' || rest.size() < 2 || rest.size() > 10) return false;
  for (char c : rest.substr(1)) {
    if (!is_digit(c)) return false;
  }
  return true;
}

bool is_calendar_date(std::string_view s, bool* monday) {
  int year = 0, month = 0, day = 0;
  if (s.size() != 10 || !parse_date(s, &year, &month, &day)) return false;
  // 1970-01-01 was a Thursday; day 4 of the epoch (1970-01-05) a Monday.
  *monday = ((days_from_civil(year, month, day) - 4) % 7 + 7) % 7 == 0;
  return true;
}

std::optional<std::string> minimize_os_version(std::string_view s) {
  constexpr std::size_t kMaxNameLength = 24;
  if (s.empty() || s.size() > kMaxVersionLength) return std::nullopt;
  std::size_t i = 0;
  while (i < s.size() && (is_letter(s[i]) || s[i] == ' ')) ++i;
  std::string_view name = s.substr(0, i);
  if (name.size() > kMaxNameLength || (!name.empty() && (name[0] == ' '))) return std::nullopt;
  if (i == s.size()) {
    return name.empty() || name.back() == ' ' ? std::nullopt : std::optional(std::string(s));
  }
  std::string_view number = s.substr(i);
  if (number[0] == 'v') number.remove_prefix(1);
  if (!is_version(number) || number.find('-') != std::string_view::npos) return std::nullopt;
  return std::string(name) + std::string(number.substr(0, number.find('.')));
}

}  // namespace detail

std::string category_of(std::string_view event_type) {
  if (event_type == "installation" || event_type == "update" || event_type == "crash" ||
      event_type == "error") {
    return std::string(event_type);
  }
  if (event_type == "weekly_summary") return "usage";
  return {};
}

const std::vector<std::string>& all_categories() {
  static const std::vector<std::string> kNames(kCategories.begin(), kCategories.end());
  return kNames;
}

std::optional<std::string> cut_to_major_minor(std::string_view version) {
  if (!detail::is_version(version)) return std::nullopt;
  if (version[0] == 'v') version.remove_prefix(1);
  version = version.substr(0, version.find('-'));
  const std::size_t first = version.find('.');
  if (first == std::string_view::npos) return std::string(version);
  return std::string(version.substr(0, version.find('.', first + 1)));
}

std::string normalize_mcp_client(std::string_view client) {
  std::string c;
  for (char ch : client) {
    if (ch == ' ' || ch == '_') ch = '-';
    c.push_back((ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch - 'A' + 'a') : ch);
  }
  while (!c.empty() && c.front() == '-') c.erase(c.begin());
  while (!c.empty() && c.back() == '-') c.pop_back();
  if (c.empty()) return "unknown";
  for (std::string_view known : kMcpClients) {
    if (c == known) return c;
  }
  return "other";
}

}  // namespace dollhouse::privacy
