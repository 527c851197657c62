// The Scrubber: runs the detector passes in order over a text, and reports which still fire.
#include <memory>
#include <stdexcept>
#include <utility>

#include <re2/re2.h>

#include "privacy/privacy.hpp"
#include "privacy/scrub_internal.hpp"

namespace dollhouse::privacy {
namespace detail {

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool is_word_char(char c) {
  return is_alnum(c) || c == '_';
}

char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool is_placeholder(std::string_view s) {
  return s == kUserPlaceholder || s == kEmailPlaceholder || s == kIpPlaceholder ||
         s == kMacPlaceholder || s == kSecretPlaceholder || s == kHostPlaceholder;
}

namespace {

std::shared_ptr<const re2::RE2> compile(std::string_view pattern) {
  re2::RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(16 << 20);
  auto re =
      std::make_shared<const re2::RE2>(re2::StringPiece(pattern.data(), pattern.size()), options);
  if (!re->ok()) throw std::logic_error("privacy: bad detector pattern: " + re->error());
  return re;
}

}  // namespace

Pass make_regex_pass(std::string name, std::string_view pattern, DecideFn decide) {
  auto re = compile(pattern);
  FindFn find = [re, decide = std::move(decide)](std::string_view text,
                                                 std::size_t from) -> std::optional<Match> {
    const int n = 1 + re->NumberOfCapturingGroups();
    std::vector<re2::StringPiece> pieces(static_cast<std::size_t>(n));
    std::vector<std::string_view> groups(static_cast<std::size_t>(n));
    const re2::StringPiece whole(text.data(), text.size());
    std::size_t pos = from;
    while (pos <= text.size()) {
      if (!re->Match(whole, pos, text.size(), re2::RE2::UNANCHORED, pieces.data(), n)) {
        return std::nullopt;
      }
      for (std::size_t i = 0; i < groups.size(); ++i) {
        groups[i] = pieces[i].data() == nullptr
                        ? std::string_view()
                        : std::string_view(pieces[i].data(), pieces[i].size());
      }
      const auto begin = static_cast<std::size_t>(pieces[0].data() - text.data());
      if (auto replacement = decide(text, begin, groups)) {
        return Match{begin, begin + pieces[0].size(), std::move(*replacement)};
      }
      // Rejected: the leftmost match starts at `begin`, so nothing before it can match.
      pos = begin + 1;
    }
    return std::nullopt;
  };
  return Pass{std::move(name), std::move(find)};
}

Pass make_regex_pass(std::string name, std::string_view pattern, std::string_view placeholder) {
  std::string fixed(placeholder);
  return make_regex_pass(
      std::move(name), pattern,
      [fixed](std::string_view, std::size_t, const std::vector<std::string_view>&)
          -> std::optional<std::string> { return fixed; });
}

}  // namespace detail

namespace {

// Applies one pass to the whole text. Matches that replace text by itself are not changes.
std::string apply_pass(const detail::Pass& pass, std::string_view text, bool* changed) {
  std::string out;
  std::size_t copied = 0;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto match = pass.find(text, pos);
    if (!match) break;
    if (text.substr(match->begin, match->end - match->begin) != match->replacement) {
      if (out.empty()) out.reserve(text.size() + 16);
      out.append(text.substr(copied, match->begin - copied));
      out.append(match->replacement);
      copied = match->end;
      *changed = true;
    }
    // An empty match would otherwise be found again at the same place.
    pos = match->end > match->begin ? match->end : match->begin + 1;
  }
  if (copied == 0 && out.empty()) return std::string(text);
  out.append(text.substr(copied));
  return out;
}

}  // namespace

struct Scrubber::Impl {
  std::vector<detail::Pass> passes;
};

Scrubber::Scrubber(MachineIdentity identity) : impl_(std::make_unique<Impl>()) {
  // Order matters: secrets first (a token inside a URL or path must go whole), then paths (any
  // user's home, not only this machine's), then network addresses (an e-mail address goes whole
  // before its local part could be taken for a login name), then account and computer names in
  // the operating system's own notations, then this machine's own names.
  for (auto* family : {&detail::make_secret_passes, &detail::make_path_passes}) {
    for (auto& pass : (*family)()) impl_->passes.push_back(std::move(pass));
  }
  for (auto* family : {&detail::make_network_passes, &detail::make_account_passes}) {
    for (auto& pass : (*family)()) impl_->passes.push_back(std::move(pass));
  }
  for (auto& pass : detail::make_identity_passes(identity))
    impl_->passes.push_back(std::move(pass));
}

Scrubber::~Scrubber() = default;
Scrubber::Scrubber(Scrubber&&) noexcept = default;
Scrubber& Scrubber::operator=(Scrubber&&) noexcept = default;

namespace {

// Most rounds of all the passes one scrub() makes. A placeholder can complete a pattern that the
// text it replaced did not ("Alice::102" becomes "<user>::102", in which "::102" reads as an IPv6
// address), so the passes run again until a round changes nothing: text without personal data
// takes one round, real text with some two. Every change removes characters that were not a
// placeholder, so the rounds end; text still changing after this many is returned as it is, and
// the detectors then reject it (pii_detected) rather than let it be stored.
constexpr int kMaxScrubRounds = 4;

}  // namespace

std::string Scrubber::scrub(std::string_view text) const {
  std::string current(text);
  for (int round = 0; round < kMaxScrubRounds; ++round) {
    bool changed_in_round = false;
    for (const auto& pass : impl_->passes) {
      bool changed = false;
      std::string next = apply_pass(pass, current, &changed);
      if (changed) {
        current = std::move(next);
        changed_in_round = true;
      }
    }
    if (!changed_in_round) break;
  }
  return current;
}

std::string Scrubber::detect(std::string_view text) const {
  for (const auto& pass : impl_->passes) {
    std::size_t pos = 0;
    while (pos <= text.size()) {
      auto match = pass.find(text, pos);
      if (!match) break;
      if (text.substr(match->begin, match->end - match->begin) != match->replacement) {
        return pass.name;
      }
      pos = match->end > match->begin ? match->end : match->begin + 1;
    }
  }
  return {};
}

}  // namespace dollhouse::privacy
