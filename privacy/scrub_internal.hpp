// Internal to the privacy engine: the detector passes the Scrubber is built from.
//
// A pass finds one family of personal data ("email", "ipv4", "home_path", ...). Its `find`
// returns the leftmost match at or after `from` together with the text that replaces it; the
// Scrubber applies the passes in order, and a pass "fires" on a text exactly when applying it
// would change that text. Placeholders (<user>, <email>, <ip>, <mac>, <secret>, <host>) never
// match any pass, so scrubbing is idempotent and detect() after scrub() is empty.
//
// Passes are immutable after construction and are shared by all threads using a Scrubber. Every
// pass is linear in the length of the text: RE2 (automata, no backtracking) or hand-written
// single-pass scanners, and after a match the search resumes past it, never before it.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "privacy/privacy.hpp"

namespace re2 {
class RE2;
}

namespace dollhouse::privacy::detail {

inline constexpr std::string_view kUserPlaceholder = "<user>";
inline constexpr std::string_view kEmailPlaceholder = "<email>";
inline constexpr std::string_view kIpPlaceholder = "<ip>";
inline constexpr std::string_view kMacPlaceholder = "<mac>";
inline constexpr std::string_view kSecretPlaceholder = "<secret>";
inline constexpr std::string_view kHostPlaceholder = "<host>";

// Text [begin, end) is to be replaced by `replacement`.
struct Match {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::string replacement;
};

using FindFn = std::function<std::optional<Match>(std::string_view text, std::size_t from)>;

struct Pass {
  std::string name;  // the detector name reported by Scrubber::detect
  FindFn find;
  // The RE2 pattern of a regex pass (make_regex_pass), empty for a hand-written scanner. A regex
  // pass whose pattern matches nowhere in a text cannot fire on it: the Scrubber asks one
  // RE2::Set of all the patterns which those are, in one scan, and runs only the others.
  std::string pattern;
};

// Decides what to do with one RE2 match: `groups[0]` is the whole match, `groups[i]` the i-th
// capture (empty with data()==nullptr when it did not take part). Returns the replacement for
// groups[0], or nullopt to leave this match alone (the search then resumes one byte later).
using DecideFn = std::function<std::optional<std::string>(
    std::string_view text, std::size_t begin, const std::vector<std::string_view>& groups)>;

// A pass driven by an RE2 pattern, which must compile (checked at construction, throws
// std::logic_error otherwise: a programming error, not a runtime condition).
Pass make_regex_pass(std::string name, std::string_view pattern, DecideFn decide);

// The same, with the whole match replaced by a fixed placeholder.
Pass make_regex_pass(std::string name, std::string_view pattern, std::string_view placeholder);

// True for ASCII letters, digits and '_'.
bool is_word_char(char c);
bool is_alnum(char c);
char ascii_lower(char c);
bool is_placeholder(std::string_view s);

// Detector families, in the order the Scrubber applies them. See each source file for what the
// family recognises and what it deliberately leaves alone.
std::vector<Pass> make_secret_passes();                              // scrub_secrets.cpp
std::vector<Pass> make_path_passes();                                // scrub_paths.cpp
std::vector<Pass> make_identity_passes(const MachineIdentity& who);  // scrub_identity.cpp
std::vector<Pass> make_network_passes();                             // scrub_network.cpp
std::vector<Pass> make_account_passes();                             // scrub_accounts.cpp

}  // namespace dollhouse::privacy::detail
