// Daemon ingest throughput: events per second from clients over the real socket until the
// daemon confirms them durable (sync), against two baselines measured in the same run:
//   socket: the same lines written to a bare Unix-socket reader that only counts newlines
//           (the cost of the transport alone);
//   sqlite: the same event bodies inserted straight into SQLite, WAL, synchronous=FULL, in
//           transactions of 1024 (the cost of durable storage alone).
// Usage: dollhouse-daemon-bench [events-per-client] [clients]  (run from a Release build)
#include <signal.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "ipc/unix_socket.hpp"

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string event_line(int client, int i) {
  json e = {{"eventType", "error"},
            {"errorType", "runtime"},
            {"errorCategory", "ECONNRESET"},
            {"errorMessage", "socket hang up while syncing portfolio item " + std::to_string(i)},
            {"component", "PortfolioSync" + std::to_string(client)},
            {"recovered", true}};
  return json{{"v", 1}, {"op", "track"}, {"event", e}}.dump() + "\n";
}

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Baseline 1: a reader that counts lines on a Unix socket.
double socket_baseline(const std::string& path, int clients, int per_client) {
  ::unlink(path.c_str());
  int lfd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  ::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::listen(lfd, 128);
  std::vector<std::thread> readers;
  std::thread acceptor([&] {
    for (int c = 0; c < clients; ++c) {
      int fd = ::accept(lfd, nullptr, nullptr);
      readers.emplace_back([fd, per_client] {
        char buf[65536];
        int lines = 0;
        while (lines < per_client) {
          ssize_t n = ::read(fd, buf, sizeof buf);
          if (n <= 0) break;
          for (ssize_t i = 0; i < n; ++i) lines += buf[i] == '\n';
        }
        ssize_t ignored = ::write(fd, "k\n", 2);  // acknowledges: all lines read
        (void)ignored;
        ::close(fd);
      });
    }
  });
  auto start = Clock::now();
  std::vector<std::thread> writers;
  for (int c = 0; c < clients; ++c) {
    writers.emplace_back([&, c] {
      auto conn =
          dollhouse::ipc::LineConnection::connect(path, Clock::now() + std::chrono::seconds(10));
      if (!conn) return;
      std::string batch;
      for (int i = 0; i < per_client; ++i) batch += event_line(c, i);
      (void)conn->send(batch, Clock::now() + std::chrono::seconds(60));
      (void)conn->read_line(Clock::now() + std::chrono::seconds(60));
    });
  }
  for (auto& w : writers) w.join();
  acceptor.join();
  for (auto& r : readers) r.join();
  double secs = seconds_since(start);
  ::close(lfd);
  ::unlink(path.c_str());
  return clients * per_client / secs;
}

// Baseline 2: durable inserts straight into SQLite.
double sqlite_baseline(const std::string& db_path, int total) {
  sqlite3* db = nullptr;
  sqlite3_open(db_path.c_str(), &db);
  sqlite3_exec(db,
               "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE e (id INTEGER "
               "PRIMARY KEY, created_ms INTEGER, body TEXT)",
               nullptr, nullptr, nullptr);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO e (created_ms, body) VALUES (?1, ?2)", -1, &st, nullptr);
  auto start = Clock::now();
  for (int i = 0; i < total; ++i) {
    if (i % 1024 == 0) sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
    std::string body = event_line(0, i);
    sqlite3_bind_int64(st, 1, i);
    sqlite3_bind_text(st, 2, body.data(), static_cast<int>(body.size()), SQLITE_TRANSIENT);
    sqlite3_step(st);
    sqlite3_reset(st);
    if (i % 1024 == 1023 || i == total - 1) sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  }
  double secs = seconds_since(start);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return total / secs;
}

double daemon_run(const std::string& bin, const std::string& root, int clients, int per_client) {
  std::string sock = root + "/run/telemetry.sock";
  pid_t pid = ::fork();
  if (pid == 0) {
    setenv("DOLLHOUSE_TELEMETRY_ENDPOINT", "http://127.0.0.1:9/api/v1/telemetry", 1);
    for (const char* v : {"CI", "DO_NOT_TRACK", "GITHUB_ACTIONS", "DOLLHOUSE_TELEMETRY"})
      unsetenv(v);
    std::string daemon = bin + "/dollhouse-telemetryd";
    execl(daemon.c_str(), daemon.c_str(), "--home", root.c_str(), "--socket", sock.c_str(),
          "--log-level", "warn", static_cast<char*>(nullptr));
    _exit(127);
  }
  auto deadline = Clock::now() + std::chrono::seconds(20);
  dollhouse::Result<dollhouse::ipc::LineConnection> control =
      dollhouse::Status::error("unreachable", "not yet");
  while (Clock::now() < deadline &&
         !(control = dollhouse::ipc::LineConnection::connect(sock, deadline))) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!control) {
    std::fprintf(stderr, "daemon did not start\n");
    ::kill(pid, SIGKILL);
    return 0;
  }
  (void)control->send(R"({"v":1,"op":"consent","id":1,"enabled":true})"
                      "\n",
                      deadline);
  (void)control->read_line(deadline);
  auto start = Clock::now();
  std::vector<std::thread> threads;
  std::atomic<int> confirmed{0};
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      auto d = Clock::now() + std::chrono::seconds(120);
      auto conn = dollhouse::ipc::LineConnection::connect(sock, d);
      if (!conn) return;
      std::string batch = R"({"v":1,"op":"hello","id":1,"app":"bench","appVersion":"1.0.0"})"
                          "\n";
      for (int i = 0; i < per_client; ++i) batch += event_line(c, i);
      batch += R"({"v":1,"op":"sync","id":7})"
               "\n";
      (void)conn->send(batch, d);
      // The hello's reply comes first, then the sync's.
      for (int replies = 0; replies < 2; ++replies) {
        auto reply = conn->read_line(d);
        if (!reply) return;
        json j = json::parse(*reply, nullptr, false);
        if (j.value("id", json()) == json(7)) confirmed += j.value("accepted", 0);
      }
    });
  }
  for (auto& t : threads) t.join();
  double secs = seconds_since(start);
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (confirmed != clients * per_client) {
    std::fprintf(stderr, "only %d of %d events confirmed\n", confirmed.load(),
                 clients * per_client);
  }
  return confirmed / secs;
}

}  // namespace

int main(int argc, char** argv) {
  int per_client = argc > 1 ? std::atoi(argv[1]) : 5000;
  int clients = argc > 2 ? std::atoi(argv[2]) : 8;
  std::string bin = std::filesystem::canonical("/proc/self/exe").parent_path();
  char tmpl[] = "/tmp/dh-bench-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  int total = per_client * clients;

  double socket_rate = socket_baseline(dir + "/baseline.sock", clients, per_client);
  double sqlite_rate = sqlite_baseline(dir + "/baseline.db", total);
  double daemon_rate = daemon_run(bin, dir + "/root", clients, per_client);
  std::filesystem::remove_all(dir);

  std::printf("daemon ingest: %d clients x %d events (track, then sync until durable)\n", clients,
              per_client);
  std::printf("  %-44s %12.0f events/s\n", "socket baseline (read and count lines)", socket_rate);
  std::printf("  %-44s %12.0f events/s\n", "sqlite baseline (WAL, FULL, 1024/txn)", sqlite_rate);
  std::printf("  %-44s %12.0f events/s\n", "daemon (validate, scrub, stamp, commit)", daemon_rate);
  std::printf("  daemon / socket baseline = %.3f\n", daemon_rate / socket_rate);
  std::printf("  daemon / sqlite baseline = %.3f\n", daemon_rate / sqlite_rate);
  return daemon_rate > 0 ? 0 : 1;
}
