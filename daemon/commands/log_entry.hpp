// The seed's TelemetryLog entry ({timestamp, eventType, data, sentToServer}) for one stored
// event: the one mapping used by `show` and `export`.
#pragma once

#include <nlohmann/json.hpp>

#include "daemon/storage/event_store.hpp"

namespace dollhouse::daemon {

nlohmann::json log_entry(const StoredEvent& event);

}  // namespace dollhouse::daemon
