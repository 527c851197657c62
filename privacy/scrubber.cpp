// The Scrubber: runs the detector passes in order over a text, and reports which still fire.
#include <memory>
#include <stdexcept>
#include <utility>

#include <re2/re2.h>
#include <re2/set.h>

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

re2::RE2::Options pattern_options() {
  re2::RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(16 << 20);
  return options;
}

std::shared_ptr<const re2::RE2> compile(std::string_view pattern) {
  auto re = std::make_shared<const re2::RE2>(re2::StringPiece(pattern.data(), pattern.size()),
                                             pattern_options());
  if (!re->ok()) throw std::logic_error("privacy: bad detector pattern: " + re->error());
  return re;
}

}  // namespace

Pass make_regex_pass(std::string name, std::string_view pattern, DecideFn decide) {
  auto re = compile(pattern);
  FindFn find = [re, decide = std::move(decide)](std::string_view text,
                                                 std::size_t from) -> std::optional<Match> {
    const auto n = static_cast<std::size_t>(1 + re->NumberOfCapturingGroups());
    // The capture buffers live as long as the thread: a find runs for every field of every
    // event, and most find nothing, so it must not allocate.
    thread_local std::vector<re2::StringPiece> pieces;
    thread_local std::vector<std::string_view> groups;
    pieces.resize(n);
    groups.resize(n);
    const re2::StringPiece whole(text.data(), text.size());
    std::size_t pos = from;
    while (pos <= text.size()) {
      if (!re->Match(whole, pos, text.size(), re2::RE2::UNANCHORED, pieces.data(),
                     static_cast<int>(n))) {
        return std::nullopt;
      }
      for (std::size_t i = 0; i < n; ++i) {
        groups[i] = pieces[i].data() == nullptr
                        ? std::string_view()
                        : std::string_view(pieces[i].data(), pieces[i].size());
      }
      const auto begin = static_cast<std::size_t>(pieces[0].data() - text.data());
      const std::size_t length = pieces[0].size();
      if (auto replacement = decide(text, begin, groups)) {
        return Match{begin, begin + length, std::move(*replacement)};
      }
      // Rejected: the leftmost match starts at `begin`, so nothing before it can match.
      pos = begin + 1;
    }
    return std::nullopt;
  };
  return Pass{std::move(name), std::move(find), std::string(pattern)};
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

// Applies one pass to the whole text: the changed text, or nullopt when the pass changes nothing
// (matches that replace text by itself are not changes).
std::optional<std::string> apply_pass(const detail::Pass& pass, std::string_view text) {
  std::optional<std::string> out;
  std::size_t copied = 0;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto match = pass.find(text, pos);
    if (!match) break;
    if (text.substr(match->begin, match->end - match->begin) != match->replacement) {
      if (!out) {
        out.emplace();
        out->reserve(text.size() + 16);
      }
      out->append(text.substr(copied, match->begin - copied));
      out->append(match->replacement);
      copied = match->end;
    }
    // An empty match would otherwise be found again at the same place.
    pos = match->end > match->begin ? match->end : match->begin + 1;
  }
  if (out) out->append(text.substr(copied));
  return out;
}

}  // namespace

struct Scrubber::Impl {
  std::vector<detail::Pass> passes;
  // All the regex passes' patterns; set_index[i] is pass i's index in it, -1 for a scanner.
  std::unique_ptr<re2::RE2::Set> prefilter;
  std::vector<int> set_index;

  void build_prefilter();
  // may_fire[i] is false for a regex pass whose pattern matches nowhere in `text`. Without the
  // prefilter (it failed to build, or ran out of memory on this text) every pass may fire.
  void may_fire(std::string_view text, std::vector<char>& out) const;
};

void Scrubber::Impl::build_prefilter() {
  set_index.assign(passes.size(), -1);
  re2::RE2::Options options = detail::pattern_options();
  options.set_max_mem(64 << 20);
  auto set = std::make_unique<re2::RE2::Set>(options, re2::RE2::UNANCHORED);
  for (std::size_t i = 0; i < passes.size(); ++i) {
    if (passes[i].pattern.empty()) continue;
    const int at = set->Add(passes[i].pattern, nullptr);
    if (at < 0) {
      set_index.assign(passes.size(), -1);
      return;  // every pattern compiled on its own already, so this does not happen
    }
    set_index[i] = at;
  }
  if (set->Compile()) prefilter = std::move(set);
}

void Scrubber::Impl::may_fire(std::string_view text, std::vector<char>& out) const {
  out.assign(passes.size(), 1);
  if (!prefilter) return;
  thread_local std::vector<int> matched;
  matched.clear();
  re2::RE2::Set::ErrorInfo error{};
  const bool any = prefilter->Match(re2::StringPiece(text.data(), text.size()), &matched, &error);
  if (!any && error.kind != re2::RE2::Set::kNoError) return;  // out of memory: run them all
  thread_local std::vector<char> hit;
  hit.assign(passes.size(), 0);
  for (int m : matched) hit[static_cast<std::size_t>(m)] = 1;
  for (std::size_t i = 0; i < passes.size(); ++i) {
    if (set_index[i] >= 0) out[i] = hit[static_cast<std::size_t>(set_index[i])];
  }
}

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
  impl_->build_prefilter();
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

std::string Scrubber::scrub(std::string_view text, bool* settled) const {
  std::string current(text);
  bool changed_in_round = false;
  thread_local std::vector<char> may;
  for (int round = 0; round < kMaxScrubRounds; ++round) {
    changed_in_round = false;
    impl_->may_fire(current, may);
    for (std::size_t i = 0; i < impl_->passes.size(); ++i) {
      if (!may[i]) continue;
      if (auto next = apply_pass(impl_->passes[i], current)) {
        current = std::move(*next);
        changed_in_round = true;
        // The text the later passes see is new: ask again which of them may fire on it.
        impl_->may_fire(current, may);
      }
    }
    if (!changed_in_round) break;
  }
  // A round that changed nothing ran every pass over the final text and none fired: exactly
  // what detect() would do.
  if (settled != nullptr) *settled = !changed_in_round;
  return current;
}

std::string Scrubber::detect(std::string_view text) const {
  thread_local std::vector<char> may;
  impl_->may_fire(text, may);
  for (std::size_t i = 0; i < impl_->passes.size(); ++i) {
    if (!may[i]) continue;
    const auto& pass = impl_->passes[i];
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
