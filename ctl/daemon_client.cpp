#include "ctl/daemon_client.hpp"

#include <iostream>
#include <thread>
#include <vector>

#include "common/environment.hpp"
#include "ctl/platform.hpp"
#include "ipc/protocol.hpp"

namespace dollhouse::ctl {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

// The daemon binary next to this one, else the one on PATH (POSIX only).
std::string daemon_binary() {
  const std::string name = platform::program_file("dollhouse-telemetryd");
  if (std::string dir = platform::own_directory(); !dir.empty()) {
    std::string candidate = platform::join_path(dir, name);
    if (platform::is_executable(candidate)) return candidate;
#ifdef _WIN32
    // Never a bare name on Windows: CreateProcess would try the current directory first.
    return candidate;
#endif
  }
  return name;
}

std::string start_hint(const std::string& socket_path) {
  return "start it with `dollhouse-telemetryd` (or `dollhousectl service install`), or drop "
         "--no-start to let dollhousectl start it; socket: " +
         socket_path;
}

}  // namespace

Status DaemonClient::resolve() {
  if (!socket_path_.empty()) return Status::ok();
  auto root = resolve_data_root(options_.home, process_env());
  if (!root) return root.status();
  data_root_ = *root;
  socket_path_ = resolve_socket_path(options_.socket, process_env(), data_root_);
  return Status::ok();
}

Status DaemonClient::start_daemon() {
  std::string binary = daemon_binary();
  std::vector<std::string> args = {binary, "--home", data_root_, "--socket", socket_path_};
  if (Status st = platform::spawn_detached(args); !st) return st;
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < deadline) {
    auto conn = ipc::LineConnection::connect(socket_path_, deadline);
    if (conn) {
      conn_ = std::move(conn.value());
      std::cerr << "dollhousectl: the telemetry daemon was not running; started it (" << binary
                << ")\n";
      return Status::ok();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return Status::error(ipc::line_error::kUnreachable,
                       "the telemetry daemon did not come up within 10 s; look at " + data_root_ +
                           "/logs/telemetryd.log, or run dollhouse-telemetryd in a terminal to "
                           "see why");
}

Status DaemonClient::connect() {
  if (conn_.is_open()) return Status::ok();
  if (Status st = resolve(); !st) return st;
  auto conn = ipc::LineConnection::connect(socket_path_, Clock::now() + std::chrono::seconds(2));
  if (conn) {
    conn_ = std::move(conn.value());
    return Status::ok();
  }
  if (conn.status().code() == ipc::line_error::kTimeout) {
    return Status::error(ipc::line_error::kUnreachable,
                         "the telemetry daemon does not accept connections at " + socket_path_ +
                             " (it may be hung); restart it");
  }
  if (conn.status().code() != ipc::line_error::kUnreachable) return conn.status();
  if (options_.no_start) {
    return Status::error(ipc::line_error::kUnreachable,
                         "daemon not running: " + start_hint(socket_path_));
  }
  return start_daemon();
}

Result<json> DaemonClient::request(const std::string& op, json fields,
                                   std::chrono::milliseconds timeout) {
  if (Status st = connect(); !st) return st;
  json req = std::move(fields);
  req["v"] = ipc::kProtocolVersion;
  req["op"] = op;
  std::int64_t id = next_id_++;
  req["id"] = id;
  auto deadline = Clock::now() + timeout;
  if (Status st = conn_.send(req.dump() + "\n", deadline); !st) {
    return Status::error(ipc::line_error::kUnreachable,
                         "lost the connection to the daemon: " + st.message());
  }
  while (true) {
    auto line = conn_.read_line(deadline);
    if (!line) {
      return Status::error(line.status().code() == ipc::line_error::kTimeout
                               ? ipc::line_error::kTimeout
                               : ipc::line_error::kUnreachable,
                           "no reply from the daemon: " + line.status().message());
    }
    json reply = json::parse(*line, nullptr, false);
    if (reply.is_object() && reply.value("id", json()) == json(id)) return reply;
  }
}

int report_failure(const Status& status) {
  std::cerr << "dollhousectl: " << status.message() << "\n";
  return status.code() == ipc::line_error::kUnreachable ? kExitUnreachable : kExitFailed;
}

int report_error_reply(const json& reply) {
  const json& err = reply.value("error", json::object());
  std::cerr << "dollhousectl: " << err.value("message", "the daemon refused the request") << " ("
            << err.value("code", "error") << ")\n";
  return kExitFailed;
}

}  // namespace dollhouse::ctl
