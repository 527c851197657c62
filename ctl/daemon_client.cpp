#include "ctl/daemon_client.hpp"

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <system_error>
#include <vector>

#include "common/environment.hpp"
#include "common/native_path.hpp"
#include "ctl/format.hpp"
#include "ctl/platform.hpp"
#include "ipc/protocol.hpp"

namespace dollhouse::ctl {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

// How long a daemon that runs may take to answer on its socket.
constexpr auto kStartDeadline = std::chrono::seconds(10);
// How much of a failed daemon's standard error goes into the message.
constexpr std::size_t kReportedLines = 20;
constexpr std::size_t kReportedBytes = 2000;

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

// "exit status 1", "killed by signal 9", "exit status 0xC0000135" (a Windows NTSTATUS).
std::string describe_end(const platform::ProcessEnd& end) {
  if (end.signal != 0) return "killed by signal " + std::to_string(end.signal);
  if (end.exit_code < 0 || end.exit_code > 255) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%08X", static_cast<unsigned>(end.exit_code));
    return std::string("exit status ") + buf;
  }
  return "exit status " + std::to_string(end.exit_code);
}

// What the daemon printed, to follow a colon: " text" when it is one line, else on indented
// lines of its own.
std::string quoted_output(const std::string& text) {
  const std::string tail = output_tail(text, kReportedLines, kReportedBytes);
  if (tail.find('\n') == std::string::npos) return " " + tail;
  std::string out;
  std::size_t start = 0;
  while (start <= tail.size()) {
    std::size_t end = tail.find('\n', start);
    if (end == std::string::npos) end = tail.size();
    out += "\n  " + tail.substr(start, end - start);
    start = end + 1;
  }
  return out;
}

std::string shell_command(const std::vector<std::string>& args) {
  std::string out;
  for (const auto& a : args) {
    if (!out.empty()) out.push_back(' ');
    out += shell_quote(a);
  }
  return out;
}

}  // namespace

Status DaemonClient::resolve() {
  if (!socket_path_.empty()) return Status::ok();
  const EnvLookup env = process_env();
  auto given = [&env](const std::optional<std::string>& flag, const char* variable) {
    if (flag && !flag->empty()) return true;
    auto v = env(variable);
    return v.has_value() && !v->empty();
  };
  auto root = resolve_data_root(options_.home, env);
  if (!root) return root.status();
  data_root_ = *root;
  socket_path_ = resolve_socket_path(options_.socket, env, data_root_);
  home_given_ = given(options_.home, "DOLLHOUSE_HOME");
  socket_given_ = given(options_.socket, "DOLLHOUSE_TELEMETRY_SOCKET");
  return Status::ok();
}

std::string DaemonClient::location_flags() const {
  std::string flags;
  if (home_given_) flags += " --home " + shell_quote(data_root_);
  if (socket_given_) flags += " --socket " + shell_quote(socket_path_);
  return flags;
}

std::string DaemonClient::start_hint() const {
  const std::string flags = location_flags();
  std::string again = "dollhousectl" + flags;
  if (options_.command.empty()) {
    again += " telemetry status";
  } else {
    for (const auto& word : options_.command) {
      again.push_back(' ');
      again += shell_quote(word);
    }
  }
  return "start it with `dollhouse-telemetryd" + flags +
         "` (or `dollhousectl service install`), or let dollhousectl start it: `" + again +
         "` (without --no-start); socket: " + socket_path_;
}

Status DaemonClient::start_daemon() {
  const std::string binary = daemon_binary();
  const std::vector<std::string> args = {binary, "--home", data_root_, "--socket", socket_path_};
  // Kill switches are per process: the caller's never silence the user's daemon.
  auto spawned = platform::spawn_daemon(args, kill_switch_variables());
  if (!spawned) {
    if (spawned.status().code() != platform::kCannotRun) {
      return Status::error(ipc::line_error::kUnreachable, spawned.status().message());
    }
    const std::string dir = platform::own_directory();
    return Status::error(ipc::line_error::kUnreachable,
                         spawned.status().message() + ". Reinstall Dollhouse Telemetry, or put " +
                             platform::program_file("dollhouse-telemetryd") +
                             " next to dollhousectl" + (dir.empty() ? "" : " (in " + dir + ")") +
                             " or in a directory on PATH");
  }
  platform::SpawnedProcess& daemon = *spawned;
  auto try_connect = [this] {
    // A short attempt: between attempts the daemon process is looked at.
    auto conn =
        ipc::LineConnection::connect(socket_path_, Clock::now() + std::chrono::milliseconds(250));
    if (conn) conn_ = std::move(conn.value());
    return conn_.is_open();
  };
  const auto deadline = Clock::now() + kStartDeadline;
  while (true) {
    if (try_connect()) break;
    if (auto end = daemon.exited()) {
      // A daemon that another dollhousectl started at the same moment holds the instance lock,
      // and this one exits saying so: the socket answers now.
      if (try_connect()) break;
      const std::string& said = daemon.stderr_text();
      return Status::error(ipc::line_error::kUnreachable,
                           "the telemetry daemon could not start (" + describe_end(*end) + ")" +
                               (said.find_first_not_of(" \t\r\n") == std::string::npos
                                    ? " and printed nothing; run `" + shell_command(args) +
                                          "` in a terminal to see why"
                                    : ":" + quoted_output(said)));
    }
    if (Clock::now() >= deadline) {
      std::string message = "the telemetry daemon runs but did not answer at " + socket_path_ +
                            " within " + std::to_string(kStartDeadline.count()) + " s";
      const std::string said = daemon.stderr_text();
      daemon.release();
      if (said.find_first_not_of(" \t\r\n") != std::string::npos) {
        message += "; it printed:" + quoted_output(said);
      }
      const std::string log = data_root_ + "/logs/telemetryd.log";
      std::error_code ec;
      if (std::filesystem::exists(native_path(log), ec)) message += "\nIts log: " + log;
      return Status::error(ipc::line_error::kUnreachable, message);
    }
    daemon.wait(std::chrono::milliseconds(50));
  }
  // From here on the daemon's standard error goes nowhere; it ignores the broken pipe.
  daemon.release();
  std::cerr << "dollhousectl: the telemetry daemon was not running; started it (" << binary
            << ")\n";
  return Status::ok();
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
    return Status::error(ipc::line_error::kUnreachable, "daemon not running: " + start_hint());
  }
  return start_daemon();
}

Result<json> DaemonClient::request(const std::string& op, json fields,
                                   std::chrono::milliseconds timeout) {
  // The daemon closes connections that stay idle (a person reading the consent box may take
  // long): one idle for a while is replaced before it is used, so the request is never lost.
  if (conn_.is_open() && Clock::now() - last_reply_ > kReconnectAfterIdle) conn_.close();
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
    if (reply.is_object() && reply.value("id", json()) == json(id)) {
      last_reply_ = Clock::now();
      return reply;
    }
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
