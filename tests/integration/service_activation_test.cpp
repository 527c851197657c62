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
#include <sstream>

#include <gtest/gtest.h>

#include "tests/support/daemon_harness.hpp"

namespace dollhouse::testing {
namespace {

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

}  // namespace
}  // namespace dollhouse::testing
