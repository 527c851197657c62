// MachineIdentity on POSIX systems: the account database, HOME and the host name.
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <string>
#include <vector>

#include "privacy/privacy.hpp"

namespace dollhouse::privacy {
namespace {

void add_unique(std::vector<std::string>& list, std::string value) {
  while (!value.empty() && value.back() == ' ') value.pop_back();
  if (value.empty() || std::find(list.begin(), list.end(), value) != list.end()) return;
  list.push_back(std::move(value));
}

}  // namespace

MachineIdentity MachineIdentity::current() {
  MachineIdentity who;
  long suggested = sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buffer(suggested > 0 ? static_cast<std::size_t>(suggested) : 16384);
  passwd entry{};
  passwd* found = nullptr;
  if (getpwuid_r(getuid(), &entry, buffer.data(), buffer.size(), &found) == 0 && found) {
    if (found->pw_name) add_unique(who.user_names, found->pw_name);
    if (found->pw_dir) add_unique(who.home_dirs, found->pw_dir);
    if (found->pw_gecos) {
      // GECOS is "Full Name,Room,Work phone,Home phone,Other": only the first field is the name.
      std::string gecos(found->pw_gecos);
      add_unique(who.real_names, gecos.substr(0, gecos.find(',')));
    }
  }
  for (const char* variable : {"USER", "LOGNAME"}) {
    if (const char* value = std::getenv(variable)) add_unique(who.user_names, value);
  }
  if (const char* home = std::getenv("HOME")) add_unique(who.home_dirs, home);
  std::array<char, 256> host{};
  if (gethostname(host.data(), host.size() - 1) == 0) {
    const std::string name(host.data());
    add_unique(who.host_names, name);
    add_unique(who.host_names, name.substr(0, name.find('.')));
  }
  return who;
}

}  // namespace dollhouse::privacy
