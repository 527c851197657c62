// Entry point of dollhouse-telemetry-server, in the library so tests can link it.
//
// Parses the command line, opens storage, starts the HTTP(S) listener, the aggregation timer and
// the I/O threads, and runs until SIGTERM or SIGINT (graceful: no new connections, requests in
// flight finish, then exit 0). Prints "listening on http(s)://HOST:PORT" to stderr once ready.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.hpp"

namespace dollhouse::server {

int RunServer(int argc, char** argv);

// "127.0.0.1:8080" or "[::1]:8080" -> host and port; false when malformed.
bool parse_listen_address(const std::string& text, std::string& host, std::uint16_t& port);

}  // namespace dollhouse::server
