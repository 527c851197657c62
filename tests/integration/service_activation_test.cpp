// The daemon under a service manager: it serves the socket passed as fd 3 (socket activation
// through systemd-socket-activate, which passes LISTEN_FDS/LISTEN_PID as systemd does), sends
// READY=1 and STOPPING=1 to NOTIFY_SOCKET, and neither creates nor removes a socket file of its
// own. Skipped when systemd-socket-activate is not installed.
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/support/daemon_harness.hpp"

namespace dollhouse::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string find_on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(std::string(path ? path : "") + ":/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    std::string candidate = dir + "/" + program;
    if (!dir.empty() && ::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

// A datagram socket standing in for the service manager's notify socket.
class NotifyListener {
 public:
  explicit NotifyListener(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    bound_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~NotifyListener() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool bound() const { return bound_; }
  // The next datagram, or "" when none arrives before the timeout.
  std::string next(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return "";
    char buf[256];
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
  }

 private:
  int fd_ = -1;
  bool bound_ = false;
};

TEST(ServiceActivation, DaemonServesThePassedSocketNotifiesAndLeavesTheSocketInPlace) {
  std::string activate = find_on_path("systemd-socket-activate");
  if (activate.empty()) GTEST_SKIP() << "systemd-socket-activate is not installed";
  TempDir dir;
  const std::string root = dir.file("root");
  const std::string socket = dir.file("telemetry.sock");
  ::mkdir(dir.file("home").c_str(), 0700);
  NotifyListener notify(dir.file("notify.sock"));
  ASSERT_TRUE(notify.bound());

  Env env = base_env(dir.file("home"));
  env["DOLLHOUSE_TELEMETRY_ENDPOINT"] = "http://127.0.0.1:9/api/v1/telemetry";
  env["NOTIFY_SOCKET"] = dir.file("notify.sock");
  // systemd-socket-activate passes on only PATH, HOME, USER and TERM unless told with -E.
  std::vector<std::string> argv = {activate, "-l", socket};
  for (const auto& [name, value] : env) {
    argv.push_back("-E");
    argv.push_back(name + "=" + value);
  }
  for (std::string arg : {build_bin("dollhouse-telemetryd"), std::string("--home"), root,
                          std::string("--log-level"), std::string("debug")}) {
    argv.push_back(arg);
  }
  ChildProcess daemon(argv, env);
  ASSERT_TRUE(daemon.wait_for_output("Listening on", std::chrono::seconds(30))) << daemon.err();

  // The first connection makes systemd-socket-activate exec the daemon on the same socket.
  TestClient client(socket);
  ASSERT_TRUE(client.connected());
  json status = client.request({{"op", "status"}});
  ASSERT_TRUE(status.value("ok", false)) << status.dump() << daemon.err();
  EXPECT_EQ(status["daemon"]["socket"], socket);
  EXPECT_EQ(notify.next(std::chrono::seconds(30)), "READY=1");
  EXPECT_TRUE(daemon.wait_for_output("using the socket passed by the service manager",
                                     std::chrono::seconds(30)))
      << daemon.err();
  EXPECT_FALSE(exists(root + "/run/telemetry.sock")) << "the daemon made a socket of its own";

  daemon.signal(SIGTERM);
  EXPECT_EQ(daemon.wait(std::chrono::seconds(30)), 0) << daemon.err();
  EXPECT_EQ(notify.next(std::chrono::seconds(30)), "STOPPING=1");
  EXPECT_TRUE(exists(socket)) << "the socket belongs to the service manager and must stay";
}

TEST(ServiceActivation, WithoutListenVariablesTheDaemonCreatesAndRemovesItsOwnSocket) {
  DaemonHarness h;
  ASSERT_TRUE(h.start({{"LISTEN_FDS", "1"}, {"LISTEN_PID", "1"}}));  // meant for another pid
  EXPECT_TRUE(h.process()->wait_for_output("created its own socket", std::chrono::seconds(30)));
  EXPECT_TRUE(h.status().value("ok", false));
  EXPECT_EQ(h.stop(), 0);
  EXPECT_FALSE(exists(h.socket()));
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The value of `key=` in a unit file, "" when absent.
std::string unit_value(const std::string& unit_text, const std::string& key) {
  std::istringstream lines(unit_text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(key + "=", 0) == 0) return line.substr(key.size() + 1);
  }
  return "";
}

std::vector<std::string> split_words(const std::string& text) {
  std::istringstream words(text);
  std::vector<std::string> out;
  for (std::string w; words >> w;) out.push_back(w);
  return out;
}

// `dollhousectl service install`, then the user manager's part played by the test: it reads the
// units install wrote, listens where the .socket unit says (%t is XDG_RUNTIME_DIR) and starts
// the .service unit's ExecStart on the first connection, through systemd-socket-activate. The
// demo app, run with nothing but the environment, then reaches the daemon that way.
TEST(ServiceActivation, InstalledUnitsStartTheDaemonWhenTheDemoFirstTracks) {
  std::string activate = find_on_path("systemd-socket-activate");
  if (activate.empty()) GTEST_SKIP() << "systemd-socket-activate is not installed";
  TempDir dir;
  for (const char* sub : {"home", "run", "fakebin"}) ::mkdir(dir.file(sub).c_str(), 0700);
  {
    std::ofstream systemctl(dir.file("fakebin/systemctl"));
    systemctl << "#!/bin/sh\necho \"$*\" >> '" << dir.file("systemctl.log") << "'\n";
  }
  ::chmod(dir.file("fakebin/systemctl").c_str(), 0755);

  Env env = base_env(dir.file("home"));
  env["XDG_CONFIG_HOME"] = dir.file("config");
  env["XDG_RUNTIME_DIR"] = dir.file("run");
  env["DOLLHOUSE_TELEMETRY_ENDPOINT"] = "http://127.0.0.1:9/api/v1/telemetry";
  Env ctl_env = env;
  ctl_env["PATH"] = dir.file("fakebin") + ":" + env["PATH"];
  RunResult installed = run_process({build_bin("dollhousectl"), "service", "install"}, ctl_env);
  ASSERT_EQ(installed.exit_code, 0) << installed.out << installed.err;
  EXPECT_NE(read_file(dir.file("systemctl.log")).find("enable --now dollhouse-telemetry.socket"),
            std::string::npos);

  const std::string units = dir.file("config/systemd/user/");
  std::string listen = unit_value(read_file(units + "dollhouse-telemetry.socket"), "ListenStream");
  ASSERT_EQ(listen.rfind("%t/", 0), 0u) << listen;
  listen = dir.file("run") + listen.substr(2);
  ::mkdir(listen.substr(0, listen.rfind('/')).c_str(), 0700);  // DirectoryMode=0700
  std::vector<std::string> exec_start =
      split_words(unit_value(read_file(units + "dollhouse-telemetry.service"), "ExecStart"));
  ASSERT_FALSE(exec_start.empty());
  EXPECT_EQ(exec_start[0], fs::canonical(build_bin("dollhouse-telemetryd")).string());

  std::vector<std::string> argv = {activate, "-l", listen};
  for (const auto& [name, value] : env) {
    argv.push_back("-E");
    argv.push_back(name + "=" + value);
  }
  argv.insert(argv.end(), exec_start.begin(), exec_start.end());
  ChildProcess manager(argv, env);
  ASSERT_TRUE(manager.wait_for_output("Listening on", std::chrono::seconds(30))) << manager.err();

  // --no-start: only socket activation may bring the daemon up.
  RunResult enabled =
      run_process({build_bin("dollhousectl"), "--no-start", "telemetry", "enable"}, env);
  ASSERT_EQ(enabled.exit_code, 0) << enabled.out << enabled.err << manager.err();
  RunResult demo = run_process({build_bin("dollhouse-telemetry-demo")}, env);
  ASSERT_EQ(demo.exit_code, 0) << demo.out << demo.err;
  EXPECT_NE(demo.out.find("Sending to the daemon at " + listen), std::string::npos) << demo.out;

  RunResult shown =
      run_process({build_bin("dollhousectl"), "--no-start", "telemetry", "show", "--json"}, env);
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  json entries = json::parse(shown.out, nullptr, false);
  ASSERT_TRUE(entries.is_array()) << shown.out;
  std::multiset<std::string> types;
  for (const auto& e : entries) types.insert(e.value("eventType", ""));
  EXPECT_EQ(types.count("installation"), 1u) << shown.out;
  EXPECT_EQ(types.count("crash"), 1u) << shown.out;
  EXPECT_EQ(types.count("error"), 2u) << shown.out;
  RunResult status =
      run_process({build_bin("dollhousectl"), "--no-start", "telemetry", "status", "--json"}, env);
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_EQ(json::parse(status.out)["daemon"]["socket"], listen) << status.out;
  EXPECT_TRUE(manager.wait_for_output("using the socket passed by the service manager",
                                      std::chrono::seconds(30)))
      << manager.err();

  manager.signal(SIGTERM);
  EXPECT_EQ(manager.wait(std::chrono::seconds(30)), 0) << manager.err();
}

}  // namespace
}  // namespace dollhouse::testing
