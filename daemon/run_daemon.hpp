// Entry point of dollhouse-telemetryd, in the library so tests can link it.
#pragma once

#include <functional>

namespace dollhouse::daemon {

// How a service manager that does not send signals (the Windows service control manager)
// drives the daemon: once the daemon listens, on_ready receives a function that asks it to stop
// as SIGTERM would. That function may be called from any thread, any number of times.
struct ServiceHooks {
  std::function<void(std::function<void()> request_stop)> on_ready;
};

// Parses arguments, takes the per-data-root lock, opens config and database, listens, and
// serves until SIGTERM or SIGINT. Returns the process exit code: 0 after a clean stop, 1 when
// it cannot start (already running, unusable paths), 2 for usage errors.
int RunDaemon(int argc, char** argv, const ServiceHooks& hooks = {});

}  // namespace dollhouse::daemon
