// MachineIdentity on POSIX systems: the account database, HOME and the host name.
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <string>
#include <vector>

#include "privacy/identity_names.hpp"
#include "privacy/privacy.hpp"

namespace dollhouse::privacy {

MachineIdentity MachineIdentity::current() {
  MachineIdentity who;
  long suggested = sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buffer(suggested > 0 ? static_cast<std::size_t>(suggested) : 16384);
  passwd entry{};
  passwd* found = nullptr;
  if (getpwuid_r(getuid(), &entry, buffer.data(), buffer.size(), &found) == 0 && found) {
    if (found->pw_name) add_identity_name(who.user_names, found->pw_name);
    if (found->pw_dir) add_identity_name(who.home_dirs, found->pw_dir);
    if (found->pw_gecos) {
      // GECOS is "Full Name,Room,Work phone,Home phone,Other": only the first field is the name.
      std::string gecos(found->pw_gecos);
      add_identity_name(who.real_names, gecos.substr(0, gecos.find(',')));
    }
  }
  for (const char* variable : {"USER", "LOGNAME"}) {
    if (const char* value = std::getenv(variable)) add_identity_name(who.user_names, value);
  }
  if (const char* home = std::getenv("HOME")) add_identity_name(who.home_dirs, home);
  std::array<char, 256> host{};
  if (gethostname(host.data(), host.size() - 1) == 0) {
    const std::string name(host.data());
    add_identity_name(who.host_names, name);
    add_identity_name(who.host_names, name.substr(0, name.find('.')));
  }
  return who;
}

}  // namespace dollhouse::privacy
