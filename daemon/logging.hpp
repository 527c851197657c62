// The daemon's own log: stderr and <root>/logs/telemetryd.log, rotated by size. It records what
// the daemon did (started, consent changed, evictions, errors), never event content, and never
// paths other than the daemon's own data root and socket.
#pragma once

#include <string>

#include "common/status.hpp"

namespace dollhouse::daemon {

// level: trace, debug, info, warn, error, critical, off.
Status setup_logging(const std::string& logs_dir, const std::string& level);

}  // namespace dollhouse::daemon
