#include "daemon/run_daemon.hpp"

int main(int argc, char** argv) {
  return dollhouse::daemon::RunDaemon(argc, argv);
}
