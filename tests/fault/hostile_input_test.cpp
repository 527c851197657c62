// The real daemon against local programs that misbehave on purpose: a flood of idle
// connections, lines of 1 MiB, writers that send one byte now and then and never a newline,
// bytes that are not UTF-8, NUL bytes, JSON nested 100 000 deep, numbers no double holds,
// duplicate keys, and clients that send request after request and never read a reply. Throughout,
// a well-behaved client's `status` stays fast; afterwards the daemon still serves, its memory is
// bounded and its descriptors are back where they were.
//
// The framing and parsing rules are unit-tested in ipc_tests; the connection limit with a few
// hundred idle clients in connection_limits_test. This is the same daemon under all of it at once.
#include <chrono>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "daemon/settings.hpp"
#include "ipc/protocol.hpp"
#include "tests/fault/fault_run.hpp"
#include "tests/fault/hostile_clients.hpp"
#include "tests/support/daemon_harness.hpp"
#include "tests/support/wait.hpp"

namespace dollhouse::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// Idle connections opened one after another and held until the end (10 000 in the long run).
const int kIdleConnections = fault_rounds(2'000, 10'000);
// Descriptors this process needs beyond the idle ones: the other clients, the harness, gtest.
constexpr std::uint64_t kDescriptorHeadroom = 512;
// How long a connect may wait for room in the daemon's listen backlog.
constexpr auto kConnectTimeout = 10s;
// Writers that send one byte of a never-ending line every kSlowlorisByteInterval.
constexpr int kSlowlorisClients = 32;
constexpr auto kSlowlorisByteInterval = 300ms;
// Clients that send requests with ids as fast as the daemon takes them and read no reply until
// the end, when each must find exactly one reply per request.
constexpr int kNonReaders = 2;
// A non-reader stops sending once the daemon has taken nothing from it for this long (it has
// stopped reading from that client, as it must).
constexpr auto kNonReaderStall = 1s;
// Lines of kHugeLineBytes each (over the 64 KiB line limit).
const int kHugeLines = fault_rounds(8, 64);
constexpr std::size_t kHugeLineBytes = 1024 * 1024;
// The malformed cases are sent this many times, each time over a new connection.
const int kMalformedRounds = fault_rounds(3, 20);
// JSON nesting sent inside one line: far past kMaxNestingDepth, and past the line limit.
constexpr int kHugeNesting = 100'000;
// The deepest nesting that still fits in one line, so it meets the depth check itself.
constexpr int kLineNesting = (static_cast<int>(ipc::kMaxLineBytes) - 256) / 2;
// How often the well-behaved client asks for status.
constexpr auto kProbeInterval = 25ms;
// A user's `status` during all of it. The product's figure is p99 under 100 ms, printed by every
// run; the assertion leaves room for a sanitizer build, about 5 times slower (p99 51-58 ms alone on
// two cores). The test runs alone (RUN_SERIAL): beside the rest of the suite its p99 reached
// 298 ms, a figure of the machine's load, not of the daemon. docs/reliability.md gives both.
constexpr auto kMaxStatusP99 = 250ms;
constexpr auto kMaxStatusLatency = 1s;
// The daemon's resident memory after all of it, under AddressSanitizer and UBSan, which CI runs:
// ASan's shadow memory is most of it (an idle release daemon holds about 14 MiB RSS, 2.5 MiB
// private). Measured with the small quarantine below: 178 MiB RSS / 104 MiB private dirty before
// the hostile clients, at most 232 / 155 MiB during the short run and 222 / 145 MiB during the long
// one (10 000 idle connections); the caps leave about 40% on top.
// The daemon runs with a small ASan quarantine (freed memory ASan holds back to catch uses after
// free), so that the figures show what the daemon holds rather than how full the quarantine is;
// a build without ASan ignores it.
constexpr const char* kDaemonAsanQuarantine = "quarantine_size_mb=16";
constexpr std::int64_t kMaxDaemonRssKib = 320 * 1024;
constexpr std::int64_t kMaxDaemonPrivateDirtyKib = 224 * 1024;
// Descriptors the daemon may hold beyond its baseline once the hostile clients are gone (the
// probe's connection, one being accepted).
constexpr int kDescriptorTolerance = 4;
// How long the daemon may take to close what the hostile clients left.
constexpr auto kSettleDeadline = 60s;

struct Case {
  std::string name;
  std::string line;           // sent as is, followed by a newline
  std::string expected_code;  // the error code of its reply; empty: any one reply
};

std::string nested(int depth) {
  return std::string(static_cast<std::size_t>(depth), '[') +
         std::string(static_cast<std::size_t>(depth), ']');
}

std::string event_line(int id, const std::string& duration) {
  return R"({"v":1,"op":"track","id":)" + std::to_string(id) +
         R"(,"event":{"eventType":"update","fromVersion":"1.9.15","toVersion":"1.9.16",)"
         R"("success":true,"durationMs":)" +
         duration + "}}";
}

// Every malformed line, with the reply the protocol promises (docs/protocol.md, Framing and
// Envelope). Each has a recoverable id or is a control op, so each is answered exactly once.
std::vector<Case> malformed_cases() {
  const std::string status = R"({"v":1,"op":"status","id":)";
  std::vector<Case> cases = {
      {"lone 0xFF", status + R"(11,"x":"a)" + "\xff" + R"("})", "invalid_utf8"},
      {"overlong slash", status + R"(12,"x":")" + "\xc0\xaf" + R"("})", "invalid_utf8"},
      {"surrogate", status + R"(13,"x":")" + "\xed\xa0\x80" + R"("})", "invalid_utf8"},
      {"past U+10FFFF", status + R"(14,"x":")" + "\xf4\x90\x80\x80" + R"("})", "invalid_utf8"},
      {"NUL in a string", status + R"(15,"x":"a)" + std::string(1, '\0') + R"(b"})",
       "invalid_json"},
      {"NUL between tokens", status + "16," + std::string(1, '\0') + R"("x":1})", "invalid_json"},
      {"nested 100 000 deep", status + R"(17,"x":)" + nested(kHugeNesting) + "}", "line_too_long"},
      {"nested to the line limit", status + R"(18,"x":)" + nested(kLineNesting) + "}", "too_deep"},
      {"id 1e400", R"({"v":1,"op":"status","id":1e400})", "invalid_request"},
      {"id 2^64", R"({"v":1,"op":"status","id":18446744073709551616})", "invalid_request"},
      {"id -0", R"({"v":1,"op":"status","id":-0})", ""},
      {"v -0", R"({"v":-0,"op":"status","id":19})", "unsupported_version"},
      {"v 1e400", R"({"v":1e400,"op":"status","id":20})", "invalid_json"},
      {"durationMs 1e400", event_line(21, "1e400"), "invalid_json"},
      {"durationMs 2^64", event_line(22, "18446744073709551616"), ""},
      {"durationMs -0", event_line(23, "-0"), ""},
      {"durationMs 1e-400", event_line(24, "1e-400"), ""},
      {"duplicate id", status + R"(25,"id":26})", ""},
      {"duplicate op", R"({"v":1,"op":"track","op":"status","id":27})", ""},
      {"duplicate v", R"({"v":2,"v":1,"op":"status","id":28})", ""},
  };
  return cases;
}

// A huge line that is a control op with an id in its first bytes: answered line_too_long.
std::string huge_line(int id) {
  std::string line = R"({"v":1,"op":"status","id":)" + std::to_string(id) + R"(,"pad":")";
  line.append(kHugeLineBytes - line.size() - 2, 'p');
  line += "\"}";
  return line;
}

std::string code_of(const json& reply) {
  if (!reply.is_object() || !reply.contains("error")) return "";
  return reply["error"].value("code", "");
}

// Sends each case followed by a sync marker on a new connection; the first reply must be the
// case's, the second the marker's (which also proves the connection still serves).
void send_malformed(const DaemonHarness& h, int round, int& answered) {
  RawSocket s = RawSocket::connect(h.socket(), kConnectTimeout);
  ASSERT_TRUE(s.is_open());
  ASSERT_TRUE(s.send_all(R"({"v":1,"op":"hello","id":1,"app":"hostile","appVersion":"6.6.6"})"
                         "\n",
                         30s));
  auto hello = s.read_line(30s);
  ASSERT_TRUE(hello.has_value());
  for (const Case& c : malformed_cases()) {
    const std::string marker = "after " + c.name + " " + std::to_string(round);
    ASSERT_TRUE(s.send_all(c.line + "\n", 30s)) << c.name;
    ASSERT_TRUE(s.send_all(json{{"v", 1}, {"op", "sync"}, {"id", marker}}.dump() + "\n", 30s));
    auto first = s.read_line(30s);
    auto second = s.read_line(30s);
    ASSERT_TRUE(first.has_value() && second.has_value()) << c.name << ": the daemon closed";
    json reply = json::parse(*first, nullptr, false);
    json after = json::parse(*second, nullptr, false);
    ASSERT_TRUE(reply.is_object()) << c.name << ": " << *first;
    EXPECT_TRUE(reply.contains("ok")) << c.name << ": " << *first;
    EXPECT_NE(reply.value("id", json()), json(marker)) << c.name << " got no reply of its own";
    if (!c.expected_code.empty()) {
      EXPECT_EQ(code_of(reply), c.expected_code) << c.name << ": " << first->substr(0, 300);
    }
    EXPECT_EQ(after.value("id", json()), json(marker)) << c.name << ": " << second->substr(0, 300);
    EXPECT_TRUE(after.value("ok", false)) << c.name;
    ++answered;
  }
}

// Writers of a line that never ends: one byte each, every kSlowlorisByteInterval, on a thread.
class Slowloris {
 public:
  explicit Slowloris(const std::string& socket) {
    for (int i = 0; i < kSlowlorisClients; ++i) {
      clients_.push_back(RawSocket::connect(socket, kConnectTimeout));
      EXPECT_TRUE(clients_.back().is_open());
    }
    thread_ = std::thread([this] { run(); });
  }
  ~Slowloris() { stop(); }
  void stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
  }
  long bytes_sent() const { return bytes_; }
  int closed_by_daemon() const { return closed_; }

 private:
  void run() {
    const std::string text = R"({"v":1,"op":"status","id":"slow","pad":")";
    std::size_t pos = 0;
    while (!stopping_) {
      for (auto& c : clients_) {
        if (!c.is_open()) continue;
        // Past the JSON opening, the same letter forever: never a newline.
        const char byte = pos < text.size() ? text[pos] : 's';
        if (c.send_some(std::string_view(&byte, 1)) < 0) {
          c.close();
          ++closed_;
        } else {
          ++bytes_;
        }
      }
      ++pos;
      auto next = std::chrono::steady_clock::now() + kSlowlorisByteInterval;
      while (!stopping_ && std::chrono::steady_clock::now() < next) {
        std::this_thread::sleep_for(10ms);
      }
    }
  }

  std::vector<RawSocket> clients_;
  std::atomic<bool> stopping_{false};
  std::atomic<long> bytes_{0};
  std::atomic<int> closed_{0};
  std::thread thread_;
};

// Sends sync requests with ids until the daemon stops taking them; reads nothing until drain().
class NonReader {
 public:
  explicit NonReader(const std::string& socket)
      : socket_(RawSocket::connect(socket, kConnectTimeout)) {}
  bool connected() const { return socket_.is_open(); }
  // Returns once the daemon has taken nothing for kNonReaderStall.
  void flood() {
    auto last_progress = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - last_progress < kNonReaderStall) {
      std::string line = R"({"v":1,"op":"sync","id":)" + std::to_string(sent_) + "}\n";
      long n = socket_.send_some(pending_.empty() ? line : pending_);
      if (n < 0) return;
      if (n == 0) {
        std::this_thread::sleep_for(10ms);
        continue;
      }
      last_progress = std::chrono::steady_clock::now();
      std::string& written = pending_.empty() ? line : pending_;
      if (static_cast<std::size_t>(n) == written.size()) {
        if (pending_.empty()) ++sent_;
        pending_.clear();
      } else {
        if (pending_.empty()) ++sent_;
        pending_ = written.substr(static_cast<std::size_t>(n));
      }
    }
  }
  std::int64_t sent() const { return sent_; }
  // Finishes the last partial line and reads every reply; the number that came, in order.
  std::int64_t drain() {
    if (!pending_.empty() && !socket_.send_all(pending_, 60s)) return -1;
    std::int64_t got = 0;
    while (got < sent_) {
      auto line = socket_.read_line(60s);
      if (!line) break;
      json reply = json::parse(*line, nullptr, false);
      if (!reply.is_object() || reply.value("id", json()) != json(got)) break;
      ++got;
    }
    return got;
  }

 private:
  RawSocket socket_;
  std::int64_t sent_ = 0;
  std::string pending_;
};

TEST(HostileInput, StatusStaysFastAndTheDaemonStaysBoundedUnderEveryHostileClient) {
  std::string limit_error;
  if (!raise_descriptor_limit(static_cast<std::uint64_t>(kIdleConnections) + kDescriptorHeadroom,
                              limit_error)) {
    GTEST_SKIP() << limit_error;
  }
  DaemonHarness h;
  const char* asan = std::getenv("ASAN_OPTIONS");
  const std::string asan_options = std::string(asan != nullptr ? asan : "") +
                                   (asan != nullptr && *asan != '\0' ? ":" : "") +
                                   kDaemonAsanQuarantine;
  ASSERT_TRUE(h.start({{"ASAN_OPTIONS", asan_options}})) << h.process()->err();
  ASSERT_TRUE(h.enable().value("ok", false));
  const pid_t pid = h.process()->pid();
  ASSERT_TRUE(h.status().value("ok", false));
  const int baseline_fds = open_descriptors(pid);
  ASSERT_GT(baseline_fds, 0);
  const auto baseline_memory = process_memory(pid);
  ASSERT_TRUE(baseline_memory.has_value());

  StatusProbe probe(h.socket(), kProbeInterval);
  Slowloris slowloris(h.socket());

  std::vector<std::unique_ptr<NonReader>> non_readers;
  std::int64_t non_reader_requests = 0;
  for (int i = 0; i < kNonReaders; ++i) {
    non_readers.push_back(std::make_unique<NonReader>(h.socket()));
    ASSERT_TRUE(non_readers.back()->connected());
    non_readers.back()->flood();
    non_reader_requests += non_readers.back()->sent();
    EXPECT_GT(non_readers.back()->sent(), 0);
  }

  // The idle flood, held open while the rest goes on.
  std::vector<RawSocket> idle;
  idle.reserve(static_cast<std::size_t>(kIdleConnections));
  int idle_refused = 0;
  for (int i = 0; i < kIdleConnections; ++i) {
    idle.push_back(RawSocket::connect(h.socket(), kConnectTimeout));
    if (!idle.back().is_open()) ++idle_refused;
  }
  ASSERT_FALSE(process_gone(pid)) << "the daemon died under the idle flood";

  // Lines of 1 MiB: each answered line_too_long, the connection still usable.
  int huge_answered = 0;
  {
    RawSocket s = RawSocket::connect(h.socket(), kConnectTimeout);
    ASSERT_TRUE(s.is_open());
    for (int i = 0; i < kHugeLines; ++i) {
      ASSERT_TRUE(s.send_all(huge_line(100 + i) + "\n", 60s)) << "huge line " << i;
      auto line = s.read_line(60s);
      ASSERT_TRUE(line.has_value()) << "huge line " << i;
      json reply = json::parse(*line, nullptr, false);
      EXPECT_EQ(code_of(reply), "line_too_long") << *line;
      EXPECT_EQ(reply.value("id", json()), json(100 + i)) << *line;
      ++huge_answered;
    }
    ASSERT_TRUE(s.send_all(R"({"v":1,"op":"status","id":"after huge"})"
                           "\n",
                           30s));
    auto line = s.read_line(30s);
    ASSERT_TRUE(line.has_value());
    EXPECT_TRUE(json::parse(*line, nullptr, false).value("ok", false)) << line->substr(0, 300);
  }

  int malformed_answered = 0;
  for (int round = 0; round < kMalformedRounds; ++round) {
    ASSERT_NO_FATAL_FAILURE(send_malformed(h, round, malformed_answered));
  }
  ASSERT_FALSE(process_gone(pid));
  const auto loaded_memory = process_memory(pid);
  const int loaded_fds = open_descriptors(pid);

  // The hostile clients leave: the non-readers first read every reply they were owed.
  for (auto& reader : non_readers) {
    EXPECT_EQ(reader->drain(), reader->sent()) << "exactly one reply per request, in order";
  }
  non_readers.clear();
  slowloris.stop();
  const long slow_bytes = slowloris.bytes_sent();
  const int slow_closed = slowloris.closed_by_daemon();
  idle.clear();
  probe.stop();
  const StatusProbe::Figures latency = probe.figures();

  // Still serving, memory bounded, descriptors back to the baseline.
  json status = h.status();
  ASSERT_TRUE(status.value("ok", false)) << status.dump();
  int fds = -1;
  EXPECT_TRUE(wait_until(
      [&] {
        fds = open_descriptors(pid);
        return fds >= 0 && fds <= baseline_fds + kDescriptorTolerance;
      },
      kSettleDeadline))
      << "descriptors " << fds << ", baseline " << baseline_fds;
  const auto memory = process_memory(pid);
  ASSERT_TRUE(memory.has_value());
  EXPECT_LT(memory->rss_kib, kMaxDaemonRssKib);
  EXPECT_LT(memory->private_dirty_kib, kMaxDaemonPrivateDirtyKib);
  const json& protocol = status["protocolErrors"];
  EXPECT_GE(protocol.value("line_too_long", 0), huge_answered + kMalformedRounds);
  EXPECT_GE(protocol.value("invalid_utf8", 0), 4 * kMalformedRounds);
  const json& counters = status["counters"];

  EXPECT_EQ(latency.failures, 0u) << latency.last_failure;
  EXPECT_GT(latency.requests, 0u);
  EXPECT_LT(latency.p99, kMaxStatusP99);
  EXPECT_LT(latency.max, kMaxStatusLatency);

  std::ostringstream figures;
  figures << "idle=" << kIdleConnections << " (refused at connect " << idle_refused
          << ", closed for room " << counters.value("connections.closed_for_room", 0)
          << ", rejected at limit " << counters.value("connections.rejected_limit", 0)
          << ") huge lines=" << huge_answered << "x1MiB malformed answered=" << malformed_answered
          << " slowloris=" << kSlowlorisClients << " (" << slow_bytes << " bytes, " << slow_closed
          << " closed by daemon) non-reader requests=" << non_reader_requests
          << " | status probes=" << latency.requests << " failures=" << latency.failures
          << " p50=" << latency.p50.count() << "ms p99=" << latency.p99.count()
          << "ms max=" << latency.max.count() << "ms | daemon RSS " << baseline_memory->rss_kib
          << "->" << (loaded_memory ? loaded_memory->rss_kib : -1) << "->" << memory->rss_kib
          << " KiB (cap " << kMaxDaemonRssKib << "), private dirty "
          << baseline_memory->private_dirty_kib << "->"
          << (loaded_memory ? loaded_memory->private_dirty_kib : -1) << "->"
          << memory->private_dirty_kib << " KiB (cap " << kMaxDaemonPrivateDirtyKib << "), fds "
          << baseline_fds << "->" << loaded_fds << "->" << fds;
  print_figures("hostile_input_test", figures.str());
}

}  // namespace
}  // namespace dollhouse::testing
