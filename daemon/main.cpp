#include "daemon/run_daemon.hpp"

#ifdef _WIN32
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstring>

#include "common/win32.hpp"
#include "windows-service/service_host.hpp"

// dollhouse-telemetryd --service [options]: started by the service control manager, the daemon
// runs under the service wrapper, which turns the SCM's stop into the daemon's own shutdown.
// Without --service it runs in the console like on any other platform.
int main() {
  // UTF-8 arguments: argv would hold them in the ANSI code page.
  dollhouse::win32::Utf8Argv args("dollhouse-telemetryd");
  if (args.argc() < 2 || std::strcmp(args.argv()[1], dollhouse::winsvc::kServiceFlag) != 0) {
    return dollhouse::daemon::RunDaemon(args.argc(), args.argv());
  }
  args.erase(1);  // the daemon's own parser does not know --service
  auto result = dollhouse::winsvc::run_as_service(
      [&args](const dollhouse::winsvc::ReadyCallback& ready) {
        dollhouse::daemon::ServiceHooks hooks;
        hooks.on_ready = ready;
        return dollhouse::daemon::RunDaemon(args.argc(), args.argv(), hooks);
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
