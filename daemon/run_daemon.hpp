// Entry point of dollhouse-telemetryd, in the library so tests can link it.
#pragma once

namespace dollhouse::daemon {

// Parses arguments, takes the per-data-root lock, opens config and database, listens, and
// serves until SIGTERM or SIGINT. Returns the process exit code: 0 after a clean stop, 1 when
// it cannot start (already running, unusable paths), 2 for usage errors.
int RunDaemon(int argc, char** argv);

}  // namespace dollhouse::daemon
