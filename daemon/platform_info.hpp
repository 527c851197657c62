// The platform fields the daemon stamps on every event, computed once from the OS itself so
// apps cannot send anything more precise: os (windows|macos|linux|unknown), osVersion (the
// distribution or product name and its major version only, e.g. "Debian 12") and arch
// (x64|arm64|x86|unknown).
#pragma once

#include <string>

namespace dollhouse::daemon {

struct PlatformInfo {
  std::string os;
  std::string os_version;
  std::string arch;
};

PlatformInfo detect_platform();

// Pure parts, exposed for tests.
std::string arch_from_machine(const std::string& uname_machine);
// From /etc/os-release text: "<ID, capitalised> <major of VERSION_ID>", e.g. ID=debian,
// VERSION_ID="12" -> "Debian 12"; "Linux" when nothing usable is there.
std::string linux_os_version(const std::string& os_release_text);

}  // namespace dollhouse::daemon
