// Detectors for network identities: e-mail addresses, cloud host names that spell out a private
// address, MAC addresses, IPv6 and IPv4 addresses.
//
// IPv4 against version numbers: a dotted quad whose parts are all 0..255 is taken for an address
// (privacy first), unless its context says "version": a 'v' just before it ("v1.2.3.4"), a
// letter or '_' glued to it ("python3.11.4.2"), a product token ("Chrome/120.0.0.0"), a Python
// pin ("==1.2.3.4"), the word version/ver/build/release before it, or a letter or
// pre-release suffix after it ("1.2.3.4-beta"). Three-part versions ("node 20.10.0") and parts
// above 255 ("10.0.19045.2") never look like addresses. Loopback and unspecified addresses
// (127.x.x.x, 0.0.0.0, ::1, ::) name nobody and are kept: "ECONNREFUSED 127.0.0.1:3000" is the
// most common network error there is. IPv6 needs at least one decimal digit, so C++ scopes such
// as "dead::beef" are not addresses.
#include <array>
#include <string>

#include "privacy/scrub_internal.hpp"

namespace dollhouse::privacy::detail {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool is_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Parses "a.b.c.d" with every part 0..255 and 1..3 digits.
bool parse_ipv4(std::string_view s, std::array<int, 4>* parts) {
  std::size_t index = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i < s.size() && is_digit(s[i])) continue;
    if (i < s.size() && s[i] != '.') return false;
    const std::size_t length = i - start;
    if (length == 0 || length > 3 || index >= 4) return false;
    int value = 0;
    for (std::size_t k = start; k < i; ++k) value = value * 10 + (s[k] - '0');
    if (value > 255) return false;
    (*parts)[index++] = value;
    start = i + 1;
  }
  return index == 4;
}

bool ends_with_word(std::string_view before, std::string_view word) {
  if (before.size() < word.size()) return false;
  const auto tail = before.substr(before.size() - word.size());
  for (std::size_t i = 0; i < word.size(); ++i) {
    if (ascii_lower(tail[i]) != word[i]) return false;
  }
  return before.size() == word.size() || !is_letter(before[before.size() - word.size() - 1]);
}

// Whether the dotted quad at [begin, end) reads as a version number in its context.
bool looks_like_version(std::string_view text, std::size_t begin, std::size_t end) {
  if (end < text.size()) {
    const char after = text[end];
    if (is_letter(after) || after == '_' || after == '+') return true;
    if (after == '-' && end + 1 < text.size() && is_alnum(text[end + 1])) return true;
  }
  if (begin == 0) return false;
  const char before = text[begin - 1];
  if (is_letter(before) || before == '_') return true;
  if (before == '/' && begin >= 2 && is_alnum(text[begin - 2])) return true;  // Product/1.2.3.4
  if (before == '=' && begin >= 2 && (text[begin - 2] == '=' || text[begin - 2] == '~')) {
    return true;
  }
  // "version 1.2.3.4", "Version: 1.2.3.4", "build=1.2.3.4"
  std::string_view prefix = text.substr(0, begin);
  while (!prefix.empty() && (prefix.back() == ' ' || prefix.back() == ':' || prefix.back() == '=' ||
                             prefix.back() == '"')) {
    prefix.remove_suffix(1);
  }
  if (prefix.size() + 4 < begin) return false;  // too far away to be about this number
  for (std::string_view word : {"version", "ver", "build", "release"}) {
    if (ends_with_word(prefix, word)) return true;
  }
  return false;
}

std::optional<Match> find_ipv4(std::string_view text, std::size_t from) {
  auto in_run = [](char c) { return is_digit(c) || c == '.'; };
  std::size_t i = from;
  while (i < text.size()) {
    // An address has dots: go straight to the run with the next '.' (those before it have none).
    const std::size_t dot = text.find('.', i);
    if (dot == std::string_view::npos) return std::nullopt;
    i = dot;
    while (i > from && in_run(text[i - 1])) --i;
    if (!in_run(text[i])) {
      ++i;
      continue;
    }
    std::size_t run_end = i;
    while (run_end < text.size() && in_run(text[run_end])) ++run_end;
    std::size_t begin = i;
    std::size_t end = run_end;
    while (begin < end && text[begin] == '.') ++begin;
    while (end > begin && text[end - 1] == '.') --end;
    // A run that starts in the middle of a longer run (from > run start) is still judged whole.
    const bool whole_run = i == 0 || !(is_digit(text[i - 1]) || text[i - 1] == '.');
    std::array<int, 4> parts{};
    if (whole_run && parse_ipv4(text.substr(begin, end - begin), &parts) &&
        !looks_like_version(text, begin, end)) {
      const bool loopback = parts[0] == 127;
      const bool unspecified = parts == std::array<int, 4>{0, 0, 0, 0};
      const bool broadcast = parts == std::array<int, 4>{255, 255, 255, 255};
      if (!loopback && !unspecified && !broadcast) {
        return Match{begin, end, std::string(kIpPlaceholder)};
      }
    }
    i = run_end;
  }
  return std::nullopt;
}

// Parses an IPv6 address (with at most one "::" and an optional dotted IPv4 tail). Sets
// *keep for the loopback and unspecified addresses.
bool parse_ipv6(std::string_view s, bool* keep) {
  const std::size_t gap = s.find("::");
  if (gap != std::string_view::npos && s.find("::", gap + 1) != std::string_view::npos) {
    return false;
  }
  int groups = 0;
  bool any_digit = false;
  bool all_zero = true;
  int last_value = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    if (s[i] == ':') {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < s.size() && s[j] != ':') ++j;
    const std::string_view group = s.substr(i, j - i);
    if (group.find('.') != std::string_view::npos) {
      std::array<int, 4> parts{};
      if (j != s.size() || !parse_ipv4(group, &parts)) return false;
      groups += 2;
      any_digit = true;
      all_zero = false;
    } else {
      if (group.size() > 4) return false;
      int value = 0;
      for (char c : group) {
        if (!is_hex(c)) return false;
        any_digit = any_digit || is_digit(c);
        value = value * 16 + (is_digit(c) ? c - '0' : ascii_lower(c) - 'a' + 10);
      }
      if (value != 0 && j != s.size()) all_zero = false;
      last_value = value;
      ++groups;
    }
    if (groups > 8) return false;
    i = j;
  }
  const bool valid = gap == std::string_view::npos ? groups == 8 : groups <= 7;
  if (!valid || !any_digit) return false;
  *keep = gap != std::string_view::npos && all_zero && (last_value <= 1);
  return true;
}

// "::1:5432" is how Node prints loopback plus port ("connect ECONNREFUSED ::1:5432"); it
// parses as an address, but the part before the port is loopback.
bool is_loopback_with_port(std::string_view candidate) {
  const std::size_t colon = candidate.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == candidate.size()) return false;
  for (char c : candidate.substr(colon + 1)) {
    if (!is_digit(c)) return false;
  }
  bool keep = false;
  const std::string_view address = candidate.substr(0, colon);
  return address.find(':') != std::string_view::npos && parse_ipv6(address, &keep) && keep;
}

std::optional<Match> find_ipv6(std::string_view text, std::size_t from) {
  auto in_run = [](char c) { return is_hex(c) || c == ':' || c == '.'; };
  std::size_t i = from;
  while (i < text.size()) {
    // Only a run with a ':' can hold an address: go straight to the one with the next ':' (the
    // runs before it are skipped whole, as the scan below would).
    const std::size_t colon = text.find(':', i);
    if (colon == std::string_view::npos) return std::nullopt;
    i = colon;
    while (i > from && in_run(text[i - 1])) --i;
    if (!in_run(text[i])) {
      ++i;
      continue;
    }
    std::size_t run_end = i;
    while (run_end < text.size() && in_run(text[run_end])) ++run_end;
    const bool whole_run = i == 0 || !(is_word_char(text[i - 1]) || in_run(text[i - 1]));
    const bool glued_after = run_end < text.size() && is_word_char(text[run_end]);
    std::size_t begin = i;
    std::size_t end = run_end;
    if (end - begin >= 2 && text[begin] == ':' && text[begin + 1] != ':') ++begin;
    while (end > begin && text[end - 1] == '.') --end;
    if (end - begin >= 2 && text[end - 1] == ':' && text[end - 2] != ':') --end;
    const std::string_view candidate = text.substr(begin, end - begin);
    bool keep = false;
    if (whole_run && !glued_after && candidate.find(':') != std::string_view::npos &&
        parse_ipv6(candidate, &keep) && !keep && !is_loopback_with_port(candidate)) {
      // A zone id ("fe80::1%eth0") names a local interface and goes with the address.
      if (end < text.size() && text[end] == '%') {
        std::size_t zone = end + 1;
        while (zone < text.size() && is_word_char(text[zone])) ++zone;
        if (zone > end + 1) end = zone;
      }
      return Match{begin, end, std::string(kIpPlaceholder)};
    }
    i = run_end;
  }
  return std::nullopt;
}

}  // namespace

std::vector<Pass> make_network_passes() {
  std::vector<Pass> passes;
  // The local part "git" is the SSH convention of code hosts (git@github.com), not a person.
  passes.push_back(make_regex_pass(
      "email",
      R"(([A-Za-z0-9._%+-]+)(?:@|%40)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2}[A-Za-z]*)",
      [](std::string_view, std::size_t,
         const std::vector<std::string_view>& g) -> std::optional<std::string> {
        // Returning the match itself keeps it and resumes after it (not inside "it@github.com").
        if (g[1] == "git") return std::string(g[0]);
        return std::string(kEmailPlaceholder);
      }));
  // EC2-style host names spell the private address: ip-10-0-3-17.ec2.internal.
  passes.push_back(
      make_regex_pass("cloud_host", R"(\bip-(?:[0-9]{1,3}-){3}[0-9]{1,3}\b)", kHostPlaceholder));
  // aa:bb:cc:dd:ee:ff, aa-bb-cc-dd-ee-ff, aabb.ccdd.eeff. Six pairs inside a longer run of pairs
  // (a certificate or key fingerprint) are not a MAC address.
  passes.push_back(make_regex_pass(
      "mac",
      R"(\b[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}\b|\b[0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2}){5}\b)"
      R"(|\b[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\b)",
      [](std::string_view text, std::size_t begin,
         const std::vector<std::string_view>& g) -> std::optional<std::string> {
        const std::size_t end = begin + g[0].size();
        auto joins = [](char c) { return c == ':' || c == '-'; };
        if (begin >= 2 && joins(text[begin - 1]) && is_hex(text[begin - 2])) return std::nullopt;
        if (end + 1 < text.size() && joins(text[end]) && is_hex(text[end + 1])) {
          return std::nullopt;
        }
        return std::string(kMacPlaceholder);
      }));
  passes.push_back(Pass{"ipv6", &find_ipv6, {}});
  passes.push_back(Pass{"ipv4", &find_ipv4, {}});
  return passes;
}

}  // namespace dollhouse::privacy::detail
