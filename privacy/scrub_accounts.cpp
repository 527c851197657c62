// Detectors for account and computer names written out by the operating system or a shell, on any
// machine: the text may come from a Windows client and be scrubbed again by a Linux daemon or the
// server, so nothing here depends on the platform it runs on.
//
// - Environment assignments as printed by `set`, `env` or a crash report: LOGNAME=,
//   COMPUTERNAME=, HOSTNAME=, USERDOMAIN=, USERDOMAIN_ROAMINGPROFILE=, LOGONSERVER=, CLIENTNAME=
//   (the value goes; `%COMPUTERNAME%`, a reference to the variable, stays). USERNAME= and USER=
//   are user-named pairs (scrub_secrets.cpp); USERPROFILE= and HOMEPATH= are paths, left to the
//   home-path detectors, which keep the path's shape.
// - Windows' generated computer names: DESKTOP-XXXXXXX, LAPTOP-XXXXXXXX and WIN-XXXXXXXXXXX.
// - `DOMAIN\account` where the domain part is one of those names, a placeholder the host
//   detectors left ("<host>\bob"), or a Microsoft account domain (AzureAD, MicrosoftAccount).
//   Built-in principals (NT AUTHORITY\SYSTEM, BUILTIN\Administrators, NT SERVICE\…) are not
//   written in those forms and stay, as do the accounts every machine has (Administrator, Guest).
#include <string>

#include "privacy/scrub_internal.hpp"

namespace dollhouse::privacy::detail {
namespace {

// Accounts every Windows machine has; they name nobody and tell what ran.
bool is_builtin_account(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) c = ascii_lower(c);
  return lower == "administrator" || lower == "guest" || lower == "system" ||
         lower == "defaultaccount" || lower == "wdagutilityaccount";
}

}  // namespace

std::vector<Pass> make_account_passes() {
  std::vector<Pass> passes;

  // NAME=value. LOGNAME and HOSTNAME are Unix names and counted in capitals only ("hostname=" in
  // an app's own message may be a setting); the Windows names in any case, as Windows itself
  // treats them. A quoted value may hold spaces.
  passes.push_back(make_regex_pass(
      "environment_name",
      R"re(\b((?i:COMPUTERNAME|USERDOMAIN_ROAMINGPROFILE|USERDOMAIN|LOGONSERVER|CLIENTNAME)|)re"
      R"re(LOGNAME|HOSTNAME)=(?:"([^"\r\n]{1,64})"|'([^'\r\n]{1,64})'|([^\s"'`;,&|()<>]{1,64})))re",
      [](std::string_view text, std::size_t begin,
         const std::vector<std::string_view>& g) -> std::optional<std::string> {
        // Part of a longer name ("MY_HOSTNAME=") or a reference ("%COMPUTERNAME%=").
        if (begin > 0 && (text[begin - 1] == '_' || text[begin - 1] == '%')) return std::nullopt;
        const std::string_view value = g[2].data() ? g[2] : (g[3].data() ? g[3] : g[4]);
        if (value.empty() || is_placeholder(value) || value.front() == '%' || value.front() == '$')
          return std::nullopt;
        const bool user = g[1] == "LOGNAME";
        std::string out(g[0].substr(0, static_cast<std::size_t>(value.data() - g[0].data())));
        // LOGONSERVER is written "\\DC01": the server's name goes, its backslashes stay.
        std::string_view rest = value;
        while (!rest.empty() && rest.front() == '\\') {
          out.push_back('\\');
          rest.remove_prefix(1);
        }
        if (rest.empty() || is_placeholder(rest)) return std::nullopt;
        out.append(user ? kUserPlaceholder : kHostPlaceholder);
        const auto end = static_cast<std::size_t>(value.data() - g[0].data()) + value.size();
        out.append(g[0].substr(end));
        return out;
      }));

  // Windows' generated computer names: seven (desktops) or eight (laptops) random capitals and
  // digits, eleven for servers.
  passes.push_back(make_regex_pass(
      "computer_name", R"(\b(?:DESKTOP-[A-Z0-9]{7}|LAPTOP-[A-Z0-9]{8}|WIN-[A-Z0-9]{11})\b)",
      kHostPlaceholder));

  // DOMAIN\account. The account part ends at a separator, quote, space or bracket.
  passes.push_back(make_regex_pass(
      "account_name",
      R"((<host>|\bAzureAD|\bMicrosoftAccount)(\\{1,2})([A-Za-z0-9][A-Za-z0-9._-]{0,63}))",
      [](std::string_view text, std::size_t begin,
         const std::vector<std::string_view>& g) -> std::optional<std::string> {
        // "\\<host>\share" is a server and its share, not an account.
        if (begin > 0 && (text[begin - 1] == '\\' || text[begin - 1] == '/')) return std::nullopt;
        std::string_view account = g[3];
        // A sentence's full stop or a dash after the name is not part of it.
        while (account.size() > 1 && (account.back() == '.' || account.back() == '-'))
          account.remove_suffix(1);
        if (is_builtin_account(account)) return std::nullopt;
        std::string out(g[1]);
        out.append(g[2]);
        out.append(kUserPlaceholder);
        out.append(g[3].substr(account.size()));
        return out;
      }));
  return passes;
}

}  // namespace dollhouse::privacy::detail
