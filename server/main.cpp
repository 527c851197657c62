// dollhouse-telemetry-server: the self-hostable reference server.
#include "server/run_server.hpp"

int main(int argc, char** argv) {
  return dollhouse::server::RunServer(argc, argv);
}
