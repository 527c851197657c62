#include "daemon/process_setup.hpp"

namespace dollhouse::daemon {

void prepare_daemon_process() {}

void remove_own_socket(const std::string&) {}

}  // namespace dollhouse::daemon
