// Detectors for this machine's own names, as MachineIdentity reports them: home directories,
// login names, the real name from the account database, and the host name.
//
// A name is only replaced as a whole word (so login "ali" does not touch "alias"), and names too
// short or too common to replace safely are skipped: anything under three characters, service
// accounts like "root", "node" or "runner", host names like "localhost" or "ubuntu", and real-name
// parts that are ordinary English words ("Will", "Mark"), which would otherwise eat "will retry".
// The full real name and login names match in any letter case; single parts of the real name
// only as written (capitalised), again to spare ordinary words.
#include <algorithm>
#include <array>
#include <memory>
#include <stdexcept>
#include <string>

#include <re2/re2.h>

#include "privacy/scrub_internal.hpp"

namespace dollhouse::privacy::detail {
namespace {

enum class Kind { kHome, kName, kHost };

struct Literal {
  std::string text;
  Kind kind;
  bool any_case;
  std::string replacement;
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

bool is_common_word(std::string_view word) {
  static const std::array<std::string_view, 64> kWords = {
      "root",    "admin",   "administrator", "user",      "users",       "guest",    "test",
      "tester",  "node",    "app",           "runner",    "ubuntu",      "debian",   "fedora",
      "dev",     "default", "public",        "daemon",    "nobody",      "www-data", "ec2-user",
      "vagrant", "docker",  "build",         "builder",   "jenkins",     "home",     "local",
      "system",  "service", "owner",         "host",      "email",       "secret",   "server",
      "error",   "info",    "debug",         "localhost", "raspberrypi", "linux",    "macbook",
      "desktop", "laptop",  "container",     "computer",  "workstation", "will",     "mark",
      "may",     "june",    "april",         "august",    "grace",       "hope",     "joy",
      "faith",   "rose",    "bill",          "max",       "art",         "sky",      "ivy",
      "dawn"};
  const std::string w = lower(word);
  return std::find(kWords.begin(), kWords.end(), w) != kWords.end();
}

// '_' is not part of a name: "E_USER_alice" and "alice_backup" still contain the login.
bool is_name_char(char c, Kind kind) {
  if (is_alnum(c)) return true;
  if (kind == Kind::kHost) return c == '-';
  if (kind == Kind::kHome) return c == '.' || c == '-' || c == '_';
  return false;
}

bool bounded(std::string_view text, std::size_t begin, std::size_t end, Kind kind) {
  if (begin > 0 && is_name_char(text[begin - 1], kind)) return false;
  if (kind == Kind::kHome && begin > 0 && text[begin - 1] == '~') return false;
  return end >= text.size() || !is_name_char(text[end], kind);
}

void add(std::vector<Literal>& out, std::string_view text, Kind kind, bool any_case,
         std::string replacement) {
  constexpr std::size_t kMinLength = 3;
  constexpr std::size_t kMaxLength = 256;
  if (text.size() < kMinLength || text.size() > kMaxLength || is_common_word(text)) return;
  for (auto& l : out) {
    if (lower(l.text) == lower(text)) {
      l.any_case = l.any_case || any_case;  // "Liddell" as written, then "liddell" any case
      return;
    }
  }
  out.push_back(Literal{std::string(text), kind, any_case, std::move(replacement)});
}

std::vector<std::string_view> split(std::string_view s, std::string_view separators) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || separators.find(s[i]) != std::string_view::npos) {
      if (i > start) parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

std::vector<Literal> literals_of(const MachineIdentity& who) {
  std::vector<Literal> out;
  const std::string user(kUserPlaceholder);
  for (std::string_view home : who.home_dirs) {
    while (home.size() > 1 && (home.back() == '/' || home.back() == '\\')) home.remove_suffix(1);
    const std::size_t cut = home.find_last_of("/\\");
    if (cut == std::string_view::npos || cut + 1 >= home.size()) continue;
    const std::string_view last = home.substr(cut + 1);
    // The whole home path is specific even when its last part is a common word ("/root",
    // "/home/node"): it is this account's home, so it goes, bounded like any other literal.
    if (last.size() < 3) continue;
    add(out, home, Kind::kHome, false, std::string(home.substr(0, cut + 1)) + user);
  }
  for (const auto& name : who.real_names) {
    add(out, name, Kind::kName, true, user);
    const auto words = split(name, " \t");
    if (words.size() > 1) {
      // "Alice Liddell" also appears as "alice.liddell", "alice_liddell", "AliceLiddell".
      for (std::string_view joiner : {".", "_", "-", ""}) {
        std::string joined;
        for (std::size_t i = 0; i < words.size(); ++i) {
          if (i > 0) joined.append(joiner);
          joined.append(words[i]);
        }
        add(out, joined, Kind::kName, true, user);
      }
      for (auto word : words) add(out, word, Kind::kName, false, user);
    }
  }
  for (const auto& name : who.user_names) {
    add(out, name, Kind::kName, true, user);
    for (auto part : split(name, "._-")) {
      if (part.size() >= 4) add(out, part, Kind::kName, true, user);
    }
  }
  for (const auto& host : who.host_names) {
    add(out, host, Kind::kHost, true, std::string(kHostPlaceholder));
    const auto label = host.substr(0, host.find('.'));
    add(out, label, Kind::kHost, true, std::string(kHostPlaceholder));
  }
  // Longest first, so that at one position "alice.liddell" wins over "alice".
  std::stable_sort(out.begin(), out.end(), [](const Literal& a, const Literal& b) {
    return a.text.size() > b.text.size();
  });
  return out;
}

std::string pattern_of(const Literal& l) {
  const std::string quoted = re2::RE2::QuoteMeta(re2::StringPiece(l.text.data(), l.text.size()));
  return (l.any_case ? "(?i:" : "(?:") + quoted + ")";
}

struct IdentityMatcher {
  std::vector<Literal> literals;
  std::unique_ptr<re2::RE2> any;                   // (lit0)|(lit1)|... in length order
  std::vector<std::unique_ptr<re2::RE2>> singles;  // each literal alone, for retries

  std::optional<Match> at(std::string_view text, std::size_t begin, std::size_t first) const {
    const re2::StringPiece whole(text.data(), text.size());
    for (std::size_t i = first; i < literals.size(); ++i) {
      re2::StringPiece m;
      if (!singles[i]->Match(whole, begin, text.size(), re2::RE2::ANCHOR_START, &m, 1)) continue;
      const std::size_t end = begin + m.size();
      if (bounded(text, begin, end, literals[i].kind)) {
        return Match{begin, end, literals[i].replacement};
      }
    }
    return std::nullopt;
  }

  std::optional<Match> find(std::string_view text, std::size_t from) const {
    const int n = 1 + static_cast<int>(literals.size());
    std::vector<re2::StringPiece> groups(static_cast<std::size_t>(n));
    const re2::StringPiece whole(text.data(), text.size());
    std::size_t pos = from;
    while (pos <= text.size() &&
           any->Match(whole, pos, text.size(), re2::RE2::UNANCHORED, groups.data(), n)) {
      const auto begin = static_cast<std::size_t>(groups[0].data() - text.data());
      std::size_t which = 0;
      while (which + 1 < groups.size() && groups[which + 1].data() == nullptr) ++which;
      // The leftmost literal may fail its word boundary while a shorter one at the same place
      // passes ("alice.liddellx" still contains the word "alice"): try those before moving on.
      if (auto match = at(text, begin, which)) return match;
      pos = begin + 1;
    }
    return std::nullopt;
  }
};

}  // namespace

std::vector<Pass> make_identity_passes(const MachineIdentity& who) {
  auto matcher = std::make_shared<IdentityMatcher>();
  re2::RE2::Options options;
  options.set_log_errors(false);
  std::string alternation;
  for (auto& l : literals_of(who)) {
    // A name that is not valid UTF-8 cannot be searched for in (valid UTF-8) event text anyway.
    auto single = std::make_unique<re2::RE2>(pattern_of(l), options);
    if (!single->ok()) continue;
    if (!alternation.empty()) alternation.push_back('|');
    alternation.push_back('(');
    alternation += pattern_of(l);
    alternation.push_back(')');
    matcher->singles.push_back(std::move(single));
    matcher->literals.push_back(std::move(l));
  }
  if (matcher->literals.empty()) return {};
  matcher->any = std::make_unique<re2::RE2>(alternation, options);
  if (!matcher->any->ok()) throw std::logic_error("privacy: identity pattern does not compile");
  return {
      Pass{"machine_identity",
           [matcher](std::string_view text, std::size_t from) { return matcher->find(text, from); },
           {}}};
}

}  // namespace dollhouse::privacy::detail
