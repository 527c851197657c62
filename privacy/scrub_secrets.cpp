// Detectors for credentials: private key blocks, credentials and query strings in URLs,
// well-known token formats, Authorization headers and `key=value` pairs whose key names a secret.
//
// Deliberately left alone: bare hex strings (commit ids, hashes) and UUIDs, which are common in
// error messages and are not credentials on their own; a hex or UUID secret is still caught when
// it follows a secret-naming key (`token=…`) or sits in a URL query string.
#include <array>
#include <string>

#include "privacy/scrub_internal.hpp"

namespace dollhouse::privacy::detail {
namespace {

// "-----BEGIN … PRIVATE KEY-----" up to the matching END line, or to the end of the text when the
// block was cut short. Hand-written: two substring searches per block.
std::optional<Match> find_private_key(std::string_view text, std::size_t from) {
  constexpr std::string_view kBegin = "-----BEGIN ";
  constexpr std::string_view kEnd = "-----END ";
  constexpr std::string_view kDashes = "-----";
  constexpr std::size_t kMaxHeader = 64;
  std::size_t pos = from;
  while (true) {
    const std::size_t begin = text.find(kBegin, pos);
    if (begin == std::string_view::npos) return std::nullopt;
    const std::size_t label = begin + kBegin.size();
    const std::size_t close = text.substr(label, kMaxHeader).find(kDashes);
    const std::string_view header =
        text.substr(label, close == std::string_view::npos ? kMaxHeader : close);
    if (header.find("PRIVATE KEY") == std::string_view::npos) {
      pos = begin + 1;
      continue;
    }
    std::size_t end = text.size();
    const std::size_t end_line = text.find(kEnd, label);
    if (end_line != std::string_view::npos) {
      const std::size_t end_close = text.find(kDashes, end_line + kEnd.size());
      if (end_close != std::string_view::npos) end = end_close + kDashes.size();
    }
    return Match{begin, end, std::string(kSecretPlaceholder)};
  }
}

bool has_digit(std::string_view s) {
  for (char c : s) {
    if (c >= '0' && c <= '9') return true;
  }
  return false;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

// Values that say there is no secret; replacing them would only lose information.
bool is_non_secret_value(std::string_view value) {
  static const std::array<std::string_view, 11> kValues = {
      "null", "undefined", "none",     "true",       "false",     "nil",
      "***",  "*****",     "redacted", "[redacted]", "[filtered]"};
  const std::string v = lower(value);
  for (auto k : kValues) {
    if (v == k) return true;
  }
  return value.empty() || is_placeholder(value);
}

// Replaces the part `inner` of the whole match `whole` (both views into the same text).
std::string splice(std::string_view whole, std::string_view inner, std::string_view with) {
  const auto offset = static_cast<std::size_t>(inner.data() - whole.data());
  std::string out(whole.substr(0, offset));
  out.append(with);
  out.append(whole.substr(offset + inner.size()));
  return out;
}

// The value of a `key=value` match: groups 4 (double-quoted), 6 (single-quoted), 7 (bare).
std::optional<std::string> decide_pair(const std::vector<std::string_view>& g,
                                       std::string_view placeholder, bool password_like) {
  const bool quoted = g[4].data() != nullptr || g[6].data() != nullptr;
  const std::string_view value = g[4].data() ? g[4] : (g[6].data() ? g[6] : g[7]);
  if (value.data() == nullptr || is_non_secret_value(value)) return std::nullopt;
  const std::string_view separator = g[2];
  const bool colon_only = separator.find('=') == std::string_view::npos;
  // "Unexpected token: punc" is a parser message, not a credential: with a bare colon and an
  // unquoted value, only values that look generated (a digit, or long) count for token-like keys.
  if (colon_only && !quoted && !password_like && !has_digit(value) && value.size() < 16) {
    return std::nullopt;
  }
  return splice(g[0], value, placeholder);
}

constexpr std::string_view kPairTail =
    R"(((?:\\?["'])?[ \t]*[:=][ \t]*)(?:(\\?")([^"\\\r\n]*)\\?"|(')([^'\r\n]*)'|([^\s"'\\,;&}\])<>]+)))";

}  // namespace

std::vector<Pass> make_secret_passes() {
  std::vector<Pass> passes;
  passes.push_back(Pass{"private_key", &find_private_key, {}});

  // scheme://user:password@host: the whole userinfo goes. "git@" (the SSH convention) is kept.
  passes.push_back(
      make_regex_pass("url_credentials", R"((?i)\b([a-z][a-z0-9+.-]*://)([^\s/?#@<>"']+)@)",
                      [](std::string_view, std::size_t,
                         const std::vector<std::string_view>& g) -> std::optional<std::string> {
                        if (g[2] == "git") return std::nullopt;
                        return std::string(g[1]) + std::string(kSecretPlaceholder) + "@";
                      }));

  // Query strings of absolute URLs carry tokens, signatures and search terms: all of it goes.
  passes.push_back(make_regex_pass(
      "url_query", R"((?i)\b((?:https?|wss?|ftps?)://[^\s?#"'<>]+)\?([^\s#"'<>)\]]+))",
      [](std::string_view, std::size_t,
         const std::vector<std::string_view>& g) -> std::optional<std::string> {
        return std::string(g[1]) + "?" + std::string(kSecretPlaceholder);
      }));

  // Header lines that carry credentials: the rest of the line goes.
  passes.push_back(make_regex_pass(
      "auth_header",
      R"((?i)\b(?:proxy-)?(?:authorization|x-api-key|x-auth-token|cookie|set-cookie)(\\?["']?[ \t]*[:=][ \t]*\\?["']?)([^\s"'\\<>)\]}][^\r\n"'\\<>)\]}]*))",
      [](std::string_view, std::size_t,
         const std::vector<std::string_view>& g) -> std::optional<std::string> {
        std::string_view value = g[2];
        while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) {
          value.remove_suffix(1);
        }
        // A bare scheme ("Bearer " before an already replaced token) hides nothing.
        const std::string scheme = lower(value);
        if (is_non_secret_value(value) || scheme == "bearer" || scheme == "basic")
          return std::nullopt;
        return splice(g[0], g[2], kSecretPlaceholder);
      }));

  // Token formats with a recognisable prefix. Distinctive prefixes (ghp_, AKIA, xox, AIza, eyJ)
  // match even when glued to other text; short ones (sk-, hf_, npm_) only at a word start, so
  // "task-…" stays. Fixed-length parts are written as a run of the
  // minimum length followed by `*` rather than {n,m}, to keep the automata small.
  passes.push_back(make_regex_pass(
      "token",
      R"((?:gh[pousr]_[A-Za-z0-9]{20}[A-Za-z0-9]*)"
      R"(|github_pat_[A-Za-z0-9_]{20}[A-Za-z0-9_]*)"
      R"(|(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|AIPA)[0-9A-Z]{16})"
      R"(|xox[abposre]-[A-Za-z0-9-]{10}[A-Za-z0-9-]*)"
      R"(|AIza[0-9A-Za-z_-]{35}[0-9A-Za-z_-]*)"
      R"(|eyJ[A-Za-z0-9_-]{4}[A-Za-z0-9_-]*\.[A-Za-z0-9_-]{4}[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)"
      R"(|\bnpm_[A-Za-z0-9]{36}\b)"
      R"(|glpat-[A-Za-z0-9_-]{20}[A-Za-z0-9_-]*)"
      R"(|\bhf_[A-Za-z0-9]{30}[A-Za-z0-9]*)"
      R"(|\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20}[A-Za-z0-9_-]*)"
      R"(|\b[rsp]k_(?:live|test)_[0-9A-Za-z]{10}[0-9A-Za-z]*))",
      kSecretPlaceholder));

  // "Bearer <token>" (RFC 6750 token68: '=' only as trailing padding). The word alone ("Bearer
  // authentication failed") is not a token, so the value must contain a digit or be long.
  passes.push_back(
      make_regex_pass("bearer", R"((?i)\bbearer\s+([A-Za-z0-9._~+/-]{8}[A-Za-z0-9._~+/-]*=*))",
                      [](std::string_view, std::size_t,
                         const std::vector<std::string_view>& g) -> std::optional<std::string> {
                        if (!has_digit(g[1]) && g[1].size() < 24) return std::nullopt;
                        return splice(g[0], g[1], kSecretPlaceholder);
                      }));

  // key=value, key: value, "key": "value", key='value' for keys that name a secret.
  passes.push_back(make_regex_pass(
      "credential_pair",
      std::string(
          R"((?i)([a-z0-9_.-]*(?:password|passwd|passphrase|pwd|secret|token|api[_-]?key)"
          R"(|access[_-]?key|private[_-]?key|secret[_-]?key|session[_-]?id|credentials?|auth)))") +
          std::string(kPairTail),
      [](std::string_view, std::size_t,
         const std::vector<std::string_view>& g) -> std::optional<std::string> {
        const std::string key = lower(g[1]);
        if (key.rfind("public", 0) == 0) return std::string(g[0]);  // PublicKeyToken=… is public
        const bool password_like =
            key.find("pass") != std::string::npos || key.find("pwd") != std::string::npos ||
            key.find("secret") != std::string::npos || key.find("key") != std::string::npos;
        return decide_pair(g, kSecretPlaceholder, password_like);
      }));

  // username=alice, "userName": "alice": the value is a person's name.
  passes.push_back(make_regex_pass(
      "user_field",
      std::string(R"((?i)\b((?:user[_ ]?name|user[_ ]?id|login[_ ]?name|user))\b)") +
          std::string(kPairTail),
      [](std::string_view, std::size_t,
         const std::vector<std::string_view>& g) -> std::optional<std::string> {
        // A bare "user: x" may be prose ("user: cancelled"); the longer keys never are.
        return decide_pair(g, kUserPlaceholder, /*password_like=*/lower(g[1]) != "user");
      }));
  // Database servers quote the account: for user "jsmith", for user 'root'@'localhost'.
  passes.push_back(make_regex_pass(
      "user_field", R"((?i)\b(?:for|of|by) user (["'])([^"'\r\n<>]{1,64})["'])",
      [](std::string_view, std::size_t, const std::vector<std::string_view>& g)
          -> std::optional<std::string> { return splice(g[0], g[2], kUserPlaceholder); }));
  return passes;
}

}  // namespace dollhouse::privacy::detail
