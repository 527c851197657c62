// Detectors for file-system locations that name a person: home directories on Linux, macOS and
// Windows (plain, JSON-escaped, file:// and URL-encoded forms), `~user`, UNC server names,
// file:// hosts and Windows account SIDs. Only the name is replaced ("/home/<user>/proj/x.js"), so
// the rest of the path still groups messages.
//
// What counts as a home directory: `/home/NAME`, `/var/home/NAME`, `/export/home/NAME`,
// `/Users/NAME`, `/mnt/c/Users/NAME` (WSL), `X:\Users\NAME`, `X:\Documents and Settings\NAME` and
// `\Users\NAME`. The Unix forms only count at the start of an absolute path (after the start of
// the text, a space, quote, bracket, '=', ':' or ','), so a folder of the app called "home"
// ("src/home/view.ts") or a URL path ("/api/users/42") is left alone. Service accounts that name
// nobody (node, runner, ubuntu, Public, Shared, ...) are kept because they help diagnosis.
#include <array>
#include <string>

#include "privacy/scrub_internal.hpp"

namespace dollhouse::privacy::detail {
namespace {

// A character that may directly precede an absolute path.
bool starts_path(std::string_view text, std::size_t begin) {
  if (begin == 0) return true;
  const char c = text[begin - 1];
  return !is_word_char(c) && c != '.' && c != '-' && c != '~' && c != '$' && c != '%';
}

bool is_service_account(std::string_view name) {
  static const std::array<std::string_view, 18> kNames = {
      "node",    "runner",  "ubuntu",   "ec2-user",  "vagrant",      "circleci",
      "jenkins", "app",     "www-data", "linuxbrew", "Shared",       "Public",
      "Default", "default", "public",   "All Users", "Default User", "docker"};
  for (auto k : kNames) {
    if (name == k) return true;
  }
  return false;
}

// File-server shares that hold one folder per user, compared without case and without the '$'
// that hides a share.
bool is_home_share(std::string_view share) {
  if (!share.empty() && share.back() == '$') share.remove_suffix(1);
  static const std::array<std::string_view, 14> kShares = {
      "home",       "homes",   "users",    "user",    "userhome",   "userhomes",
      "profiles",   "profile", "userdata", "roaming", "redirected", "redirectedfolders",
      "tsprofiles", "personal"};
  for (auto k : kShares) {
    if (share.size() != k.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < k.size() && same; ++i) same = ascii_lower(share[i]) == k[i];
    if (same) return true;
  }
  return false;
}

std::string splice(std::string_view whole, std::string_view inner, std::string_view with) {
  const auto offset = static_cast<std::size_t>(inner.data() - whole.data());
  std::string out(whole.substr(0, offset));
  out.append(with);
  out.append(whole.substr(offset + inner.size()));
  return out;
}

// One path separator in any of the spellings seen in messages.
#define DH_SEP R"((?:/|\\|%2[Ff]|%5[Cc]))"
#define DH_USLASH R"((?:/|%2[Ff]))"
// One word of a profile name; profile names may have spaces ("/mnt/c/Users/Maria Garcia/").
#define DH_NAME R"([^\s/\\:"'<>|*?%&#;,()\[\]{}=]+)"

}  // namespace

std::vector<Pass> make_path_passes() {
  std::vector<Pass> passes;

  passes.push_back(make_regex_pass(
      "home_path",
      DH_USLASH R"((?:(?:var|export)(?:/|%2[Ff])|(mnt(?:/|%2[Ff])[A-Za-z](?:/|%2[Ff])))?)"
                R"((home|Users|users))" DH_USLASH R"(+)"
                R"((?:()" DH_NAME R"((?: )" DH_NAME R"(){0,3}))" DH_USLASH R"(|()" DH_NAME R"()))",
      [](std::string_view text, std::size_t begin,
         const std::vector<std::string_view>& g) -> std::optional<std::string> {
        if (!starts_path(text, begin)) return std::nullopt;
        if (g[2] == "users" && g[1].data() == nullptr) return std::nullopt;  // only under /mnt/c
        const std::string_view name = g[3].data() ? g[3] : g[4];
        if (is_service_account(name)) return std::nullopt;
        return splice(g[0], name, kUserPlaceholder);
      }));

  // Windows profiles. A profile name may contain spaces ("C:\Users\Alice Liddell\AppData"): up to
  // four words are taken when a separator follows them, otherwise a single word.
  passes.push_back(make_regex_pass(
      "home_path",
      R"((?:\b[A-Za-z](?::|%3[Aa])(?:)" DH_SEP R"()+|\\+))"
      R"((?i:users|documents and settings|documents%20and%20settings))" DH_SEP R"(+)"
      R"((?:([^\\/:*?"<>|\s%]+(?:(?: |%20)[^\\/:*?"<>|\s%]+){0,3}))" DH_SEP
      R"(|([^\\/:*?"<>|\s%,;'()]+)))",
      [](std::string_view text, std::size_t begin,
         const std::vector<std::string_view>& g) -> std::optional<std::string> {
        // Without a drive letter the path must start here: "\Users\x" but not "lib\users\x".
        if (text[begin] == '\\' && !starts_path(text, begin)) return std::nullopt;
        const std::string_view name = g[1].data() ? g[1] : g[2];
        if (is_service_account(name)) return std::nullopt;
        return splice(g[0], name, kUserPlaceholder);
      }));

  // ~alice/... (another user's home in shell notation). "~/" has no name and is kept.
  passes.push_back(
      make_regex_pass("home_path", R"(~([A-Za-z_][A-Za-z0-9._-]*)(?:[/\\]|$))",
                      [](std::string_view text, std::size_t begin,
                         const std::vector<std::string_view>& g) -> std::optional<std::string> {
                        if (!starts_path(text, begin) || is_service_account(g[1]))
                          return std::nullopt;
                        return splice(g[0], g[1], kUserPlaceholder);
                      }));

  // A user's folder on a file server: \\server\<home share>\NAME\… where the share is one that
  // holds a folder per user (home, homes, users, profiles, … with or without a trailing '$'), and
  // \\server\<any share>\Users\NAME\… (an administrative share such as c$ or a copied
  // profile). The server's name is left to the next pass; a placeholder it left is accepted, so
  // the order of rounds does not matter.
  passes.push_back(make_regex_pass(
      "unc_user_folder",
      R"(\\{2,}(?:[A-Za-z0-9][A-Za-z0-9._$-]*|<host>)\\+([A-Za-z0-9][A-Za-z0-9._ -]*\$?)\\+)"
      R"((?:((?i:users|documents and settings))\\+)?([^\\/:*?"<>|\s%,;'()]+))",
      [](std::string_view text, std::size_t begin,
         const std::vector<std::string_view>& g) -> std::optional<std::string> {
        if (begin > 0 &&
            (text[begin - 1] == ':' || text[begin - 1] == '/' || text[begin - 1] == '>')) {
          return std::nullopt;
        }
        if (!starts_path(text, begin) || is_placeholder(g[3])) return std::nullopt;
        if (g[2].data() == nullptr && !is_home_share(g[1])) return std::nullopt;
        if (is_service_account(g[3])) return std::nullopt;
        return splice(g[0], g[3], kUserPlaceholder);
      }));

  // \\server\share: the server name goes; \\?\ and \\.\ are local namespaces, not servers. In
  // JSON-escaped text a single separator is written "\\", so the prefix only counts where a path
  // may start (not after "C:" or inside "src\\lib").
  passes.push_back(make_regex_pass(
      "unc_path", R"((\\{2,})([A-Za-z0-9][A-Za-z0-9._$-]*)\\)",
      [](std::string_view text, std::size_t begin,
         const std::vector<std::string_view>& g) -> std::optional<std::string> {
        // Not after "C:", "/" or a placeholder ("\\\\<host>\\share" in JSON-escaped text).
        if (begin > 0 &&
            (text[begin - 1] == ':' || text[begin - 1] == '/' || text[begin - 1] == '>')) {
          return std::nullopt;
        }
        if (!starts_path(text, begin)) return std::nullopt;
        return splice(g[0], g[2], kHostPlaceholder);
      }));

  passes.push_back(
      make_regex_pass("file_url_host", R"((?i)\bfile://([A-Za-z0-9][A-Za-z0-9.-]*)/)",
                      [](std::string_view, std::size_t,
                         const std::vector<std::string_view>& g) -> std::optional<std::string> {
                        std::string host(g[1]);
                        for (char& c : host) c = ascii_lower(c);
                        if (host == "localhost") return std::nullopt;
                        return splice(g[0], g[1], kHostPlaceholder);
                      }));

  // Windows account SIDs (S-1-5-21-…-RID) identify one account on one machine or domain.
  passes.push_back(
      make_regex_pass("windows_sid", R"(\bS-1-5-21(?:-[0-9]+){3,4}\b)", kUserPlaceholder));
  return passes;
}

#undef DH_SEP
#undef DH_USLASH
#undef DH_NAME

}  // namespace dollhouse::privacy::detail
