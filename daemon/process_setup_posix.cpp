#include <sys/stat.h>
#include <unistd.h>

#include <csignal>

#include "daemon/process_setup.hpp"

namespace dollhouse::daemon {

void prepare_daemon_process() {
  ::umask(077);
  std::signal(SIGPIPE, SIG_IGN);
}

void remove_own_socket(const std::string& path) {
  ::unlink(path.c_str());
}

}  // namespace dollhouse::daemon
