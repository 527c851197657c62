#include "daemon/run_daemon.hpp"

#ifdef _WIN32
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "common/win32.hpp"
#include "windows-service/service_host.hpp"

// dollhouse-telemetryd --service [options]: started by the service control manager, the daemon
// runs under the service wrapper, which turns the SCM's stop into the daemon's own shutdown.
// Without --service it runs in the console like on any other platform.
int main() {
  // UTF-8 arguments: argv would hold them in the ANSI code page.
  std::vector<std::string> utf8 = dollhouse::win32::utf8_arguments();
  if (utf8.empty()) utf8.push_back("dollhouse-telemetryd");  // CLI11 reads argv[0]
  std::vector<char*> args;
  for (auto& a : utf8) args.push_back(a.data());
  if (args.size() < 2 || std::strcmp(args[1], dollhouse::winsvc::kServiceFlag) != 0) {
    const int argc = static_cast<int>(args.size());
    args.push_back(nullptr);  // argv[argc] is null, as for any main()
    return dollhouse::daemon::RunDaemon(argc, args.data());
  }
  args.erase(args.begin() + 1);  // the daemon's own parser does not know --service
  args.push_back(nullptr);       // argv[argc] is null, as for any main()
  auto result = dollhouse::winsvc::run_as_service(
      [&args](const dollhouse::winsvc::ReadyCallback& ready) {
        dollhouse::daemon::ServiceHooks hooks;
        hooks.on_ready = ready;
        return dollhouse::daemon::RunDaemon(static_cast<int>(args.size()) - 1, args.data(), hooks);
      },
      [](std::string_view message) {
        // RunDaemon sets up the log file (<data root>\logs\telemetryd.log) before it serves.
        if (auto logger = spdlog::default_logger()) logger->info("{}", message);
      });
  if (!result) {
    std::fprintf(stderr, "dollhouse-telemetryd: %s\n", result.status().message().c_str());
    return 1;
  }
  return *result;
}
#else
int main(int argc, char** argv) {
  return dollhouse::daemon::RunDaemon(argc, argv);
}
#endif
