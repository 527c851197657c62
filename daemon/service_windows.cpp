// Windows has neither socket activation nor the notify protocol: the service control manager
// starts the daemon through the service wrapper (windows-service/), which reports its state.
#include "daemon/service.hpp"

namespace dollhouse::daemon {

Result<std::optional<ActivatedSocket>> take_activated_socket() {
  return std::optional<ActivatedSocket>{};
}

Status notify_service_manager(std::string_view, const EnvLookup&) {
  return Status::ok();
}

}  // namespace dollhouse::daemon
