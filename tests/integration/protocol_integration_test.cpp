// Wire protocol v1 against the real daemon: bad input of every kind gets a clear error, is
// counted, and never costs the connection or other clients; many clients are served at once;
// a client that never reads cannot stall the others; other users are shut out.
#include <poll.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "tests/support/daemon_harness.hpp"

namespace dollhouse::testing {
namespace {

using nlohmann::json;

const json kError = {{"eventType", "error"},
                     {"errorType", "runtime"},
                     {"errorCategory", "ETIMEDOUT"},
                     {"errorMessage", "request timed out"},
                     {"component", "CollectionBrowser"},
                     {"recovered", true}};

class ProtocolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(h_.start());
    ASSERT_TRUE(h_.enable()["ok"].get<bool>());
  }
  DaemonHarness h_;
};

std::string error_code(const json& reply) {
  return reply.is_object() && reply.contains("error") ? reply["error"].value("code", "") : "";
}

TEST_F(ProtocolTest, EveryKindOfBadInputGetsAnErrorAndTheConnectionStaysUsable) {
  TestClient c = h_.client();
  ASSERT_TRUE(c.hello()["ok"].get<bool>());
  struct Case {
    std::string line;
    std::string code;
  };
  std::vector<Case> cases = {
      {R"({"v":1,"id":1,"op":"track","event":{"a":")" + std::string(70000, 'x') + "\"}}",
       "line_too_long"},
      {"{\"v\":1,\"id\":2,\"op\":\"status\",\"x\":\"\xff\xfe\"}", "invalid_utf8"},
      {R"({"v":1,"id":3,"op":"status",)", "invalid_json"},
      {R"({"v":1,"id":4,"op":"frobnicate"})", "unknown_op"},
      {R"({"v":1,"id":5})", "invalid_request"},
      {R"({"v":2,"id":6,"op":"status"})", "unsupported_version"},
      {R"({"v":1,"id":7,"op":"track","event":"crash"})", "invalid_event"},
      {R"({"v":1,"id":8,"op":"track","event":{"eventType":"crash","errorType":42}})",
       "invalid_event"},
      {R"({"v":1,"id":9,"op":"usage","counters":{"sessions":"many"}})", "invalid_event"},
      {R"({"v":1,"id":10,"op":"show","limit":"ten"})", "invalid_request"},
      {R"({"v":1,"id":11,"op":"status","deep":)" + std::string(40, '[') + std::string(40, ']') +
           "}",
       "too_deep"},
  };
  for (const auto& tc : cases) {
    ASSERT_TRUE(c.send_raw(tc.line + "\n"));
    json reply = c.read();
    EXPECT_EQ(error_code(reply), tc.code) << reply.dump() << " for " << tc.line.substr(0, 80);
    EXPECT_FALSE(reply["id"].is_null()) << "the id was recovered";
  }
  // Without an id: no reply, but counted; the next request is answered normally.
  ASSERT_TRUE(c.send_raw("not json at all\n"));
  ASSERT_TRUE(c.send_raw(R"({"v":1,"op":"track","event":{"eventType":"nope"}})"
                         "\n"));
  json status = c.request({{"op", "status"}});
  ASSERT_TRUE(status["ok"].get<bool>()) << status.dump();
  EXPECT_EQ(status["protocolErrors"]["invalid_json"], 2);
  EXPECT_EQ(status["protocolErrors"]["line_too_long"], 1);
  EXPECT_EQ(status["protocolErrors"]["invalid_utf8"], 1);
  EXPECT_EQ(status["protocolErrors"]["unknown_op"], 1);
  EXPECT_EQ(status["protocolErrors"]["too_deep"], 1);
  EXPECT_EQ(status["queue"]["dropped"]["invalid_event"], 4);
  // The events that were fine still go through on the same connection.
  EXPECT_TRUE(c.request({{"op", "track"}, {"event", kError}})["accepted"].get<bool>());
}

TEST_F(ProtocolTest, ControlOpsWithAnUnusableIdOrAnUnknownOpAreAnsweredWithANullId) {
  TestClient c = h_.client();
  ASSERT_TRUE(c.hello()["ok"].get<bool>());
  struct Case {
    std::string line;
    std::string code;
  };
  const std::vector<Case> cases = {
      {R"({"v":1,"op":"status","id":1.5})", "invalid_request"},
      {R"({"v":1,"op":"status","id":18446744073709551616})", "invalid_request"},
      {R"({"v":1,"op":"status","id":9223372036854775808})", "invalid_request"},
      {R"({"v":1,"id":1e400,"op":"status"})", "invalid_request"},
      {R"({"v":1,"op":"status","id":")" + std::string(129, 'x') + R"("})", "invalid_request"},
      {R"({"v":1,"op":"sync","id":{}})", "invalid_request"},
      {R"({"v":1,"op":"frobnicate"})", "unknown_op"},
      {R"({"v":1,"op":"status",)", "invalid_json"},
  };
  for (const auto& tc : cases) {
    ASSERT_TRUE(c.send_raw(tc.line + "\n"));
    // Replies come in request order, so the next line is this request's answer; a request
    // left unanswered would show up here as the status reply below.
    json reply = c.read();
    ASSERT_TRUE(reply.is_object()) << "no reply to " << tc.line.substr(0, 80);
    EXPECT_TRUE(reply.contains("id") && reply["id"].is_null()) << reply.dump();
    EXPECT_FALSE(reply.value("ok", true)) << reply.dump();
    EXPECT_EQ(error_code(reply), tc.code) << reply.dump() << " for " << tc.line.substr(0, 80);
  }
  // A track or usage without a usable id stays fire-and-forget: the next reply is the status.
  ASSERT_TRUE(c.send_raw(R"({"v":1,"op":"track","id":1.5,"event":{}})"
                         "\n"));
  ASSERT_TRUE(c.send_raw(R"({"v":1,"op":"usage","id":18446744073709551616,"counters":{}})"
                         "\n"));
  ASSERT_TRUE(c.send_raw(R"({"v":1,"op":"status","id":"after"})"
                         "\n"));
  json status = c.read();
  ASSERT_TRUE(status.is_object());
  EXPECT_EQ(status["id"], "after") << status.dump();
  EXPECT_TRUE(status.value("ok", false)) << status.dump();
  EXPECT_EQ(status["protocolErrors"]["invalid_request"], 8) << status.dump();
  EXPECT_EQ(status["protocolErrors"]["unknown_op"], 1) << status.dump();
}

TEST_F(ProtocolTest, InvalidEventsNameTheFieldAndWhatWasExpected) {
  TestClient c = h_.client();
  c.hello();
  json bad = kError;
  bad["errorType"] = "sometimes";
  json reply = c.request({{"op", "track"}, {"event", bad}});
  EXPECT_EQ(error_code(reply), "invalid_event");
  EXPECT_EQ(reply["error"]["path"], "/errorType");
  EXPECT_NE(reply["error"]["expected"].get<std::string>().find("runtime"), std::string::npos);
}

TEST_F(ProtocolTest, TrackBeforeHelloIsRefused) {
  TestClient c = h_.client();
  EXPECT_EQ(error_code(c.request({{"op", "track"}, {"event", kError}})), "hello_required");
}

TEST_F(ProtocolTest, SixtyFourConcurrentClientsEachGetEveryEventStoredOnce) {
  constexpr int kClients = 64;
  constexpr int kEvents = 40;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kClients; ++t) {
    threads.emplace_back([&, t] {
      TestClient c = h_.client();
      if (!c.hello("app" + std::to_string(t))["ok"].is_boolean()) ++failures;
      for (int i = 0; i < kEvents; ++i) {
        json e = kError;
        e["errorMessage"] = "client " + std::to_string(t) + " event " + std::to_string(i);
        if (!c.send({{"op", "track"}, {"event", e}})) ++failures;
      }
      json sync = c.request({{"op", "sync"}}, std::chrono::seconds(60));
      if (sync.value("accepted", -1) != kEvents) ++failures;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  json entries = h_.entries(kClients * kEvents + 10);
  EXPECT_EQ(entries.size(), static_cast<std::size_t>(kClients * kEvents));
  std::set<std::string> unique;
  for (const auto& e : entries) unique.insert(e["data"]["errorMessage"].get<std::string>());
  EXPECT_EQ(unique.size(), static_cast<std::size_t>(kClients * kEvents));
}

// A raw, non-blocking connection: writes what the kernel takes and never reads.
int connect_nonblocking(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

TEST_F(ProtocolTest, AClientThatNeverReadsCannotStallOthers) {
  // The stuck client floods requests with large replies and never reads one.
  int stuck = connect_nonblocking(h_.socket());
  ASSERT_GE(stuck, 0);
  std::string flood;
  for (int i = 0; i < 4000; ++i) {
    flood += R"({"v":1,"op":"status","id":)" + std::to_string(i) + "}\n";
  }
  std::size_t written = 0;
  while (written < flood.size()) {
    ssize_t n = ::send(stuck, flood.data() + written, flood.size() - written, MSG_NOSIGNAL);
    if (n <= 0) break;  // the daemon stopped reading from it: backpressure
    written += static_cast<std::size_t>(n);
  }
  TestClient other = h_.client();
  ASSERT_TRUE(other.hello()["ok"].get<bool>());
  EXPECT_TRUE(other.request({{"op", "track"}, {"event", kError}})["accepted"].get<bool>());
  EXPECT_TRUE(other.request({{"op", "sync"}})["ok"].get<bool>());
  json status = other.request({{"op", "status"}});
  ASSERT_TRUE(status["ok"].get<bool>());
  EXPECT_EQ(status["daemon"]["connections"], 2);
  ::close(stuck);
}

TEST_F(ProtocolTest, AClientThatClosesItsSideStillGetsItsReplies) {
  int fd = connect_nonblocking(h_.socket());
  ASSERT_GE(fd, 0);
  std::string requests = R"({"v":1,"op":"status","id":"a"})"
                         "\n"
                         R"({"v":1,"op":"sync","id":"b"})"
                         "\n";
  ASSERT_EQ(::send(fd, requests.data(), requests.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(requests.size()));
  ::shutdown(fd, SHUT_WR);
  std::string received;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 1000) <= 0) continue;
    char buf[65536];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;  // the daemon closed after answering
    received.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  EXPECT_NE(received.find(R"("id":"a")"), std::string::npos) << received.substr(0, 200);
  EXPECT_NE(received.find(R"("id":"b")"), std::string::npos) << received.substr(0, 200);
}

TEST_F(ProtocolTest, OtherUsersAreDisconnectedAndCounted) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to act as another user";
  // Open the path to everyone so the kernel lets the other user connect; the daemon's own
  // SO_PEERCRED check must then refuse it.
  ASSERT_EQ(::chmod(h_.dir().path().c_str(), 0755), 0);
  ASSERT_EQ(::chmod(h_.dir().file("run").c_str(), 0755), 0);
  ASSERT_EQ(::chmod(h_.socket().c_str(), 0666), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(10);
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, h_.socket().c_str(), sizeof addr.sun_path - 1);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) ::_exit(11);
    std::string hello = R"({"v":1,"op":"hello","id":1,"app":"x","appVersion":"1.0"})"
                        "\n";
    // The daemon may close first: no SIGPIPE for this process, only an error.
    (void)::send(fd, hello.data(), hello.size(), MSG_NOSIGNAL);
    char buf[256];
    ssize_t n = ::read(fd, buf, sizeof buf);  // the daemon closes: EOF, no reply
    ::_exit(n == 0 || n < 0 ? 0 : 12);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "10/11: could not act as the other user; 12: it got a reply";
  EXPECT_EQ(h_.status()["counters"]["connections.rejected_peer"], 1);
}

}  // namespace
}  // namespace dollhouse::testing
