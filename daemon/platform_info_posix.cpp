#include <sys/utsname.h>

#include <fstream>
#include <sstream>

#include "daemon/platform_info.hpp"

namespace dollhouse::daemon {

PlatformInfo detect_platform() {
  PlatformInfo p{"unknown", "unknown", "unknown"};
  utsname u{};
  if (uname(&u) != 0) return p;
  std::string sys = u.sysname;
  p.arch = arch_from_machine(u.machine);
  if (sys == "Linux") {
    p.os = "linux";
    std::ifstream in("/etc/os-release");
    std::stringstream buf;
    buf << in.rdbuf();
    p.os_version = linux_os_version(buf.str());
  } else if (sys == "Darwin") {
    p.os = "macos";
    p.os_version = "macOS";
  }
  return p;
}

}  // namespace dollhouse::daemon
