// A daemon's command context built from real parts without a socket: a SQLite queue in a temp
// directory on its own storage thread, telemetry.json there too, a real uploader (pointed at a
// loopback port nobody listens on, or at nothing), a fake clock and a fixed random source.
// Commands reply into a RecordedConnection; run_until() turns the I/O loop until they have.
#pragma once

#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/commands/command_context.hpp"
#include "daemon/commands/command_table.hpp"
#include "daemon/dispatcher.hpp"
#include "daemon/maintenance.hpp"
#include "daemon/settings.hpp"
#include "daemon/storage/sqlite_event_store.hpp"
#include "daemon/usage_rollup.hpp"
#include "tests/support/endpoints.hpp"
#include "tests/support/fake_clock.hpp"
#include "tests/support/temp_dir.hpp"

namespace dollhouse::daemon::testing {

// Monday 2026-11-30 12:00:00 UTC.
inline const SystemTime kMonday = from_unix_millis(1'796'040'000'000LL);

using ::dollhouse::testing::FakeClock;

// Counts up from a seed: every id it makes is different and the same in every run.
class CountingRandom final : public RandomSource {
 public:
  void fill(unsigned char* buf, std::size_t n) override {
    for (std::size_t i = 0; i < n; ++i) buf[i] = static_cast<unsigned char>(next_++);
  }

 private:
  unsigned next_ = 1;
};

// The replies a command wrote, parsed, in order.
class RecordedConnection final : public Connection {
 public:
  void begin_storage_request() override { ++in_flight; }
  void end_storage_request() override { --in_flight; }

  std::vector<nlohmann::json> replies;
  int in_flight = 0;

 protected:
  void send(std::string line) override {
    EXPECT_FALSE(line.empty());
    EXPECT_EQ(line.back(), '\n') << "a reply line ends with a newline";
    replies.push_back(nlohmann::json::parse(line));
  }
};

struct FixtureOptions {
  // "" for an uploader that is not configured; "refused" for kRefusedEndpoint.
  std::string endpoint = "refused";
  KillSwitch kill_switch{};
};

class CommandFixture {
 public:
  explicit CommandFixture(FixtureOptions options = {})
      : clock(kMonday),
        config_path(dir.file("telemetry.json")),
        storage(open_store(), clock, {kMaxStoredEvents, kMaxStoredBytes, kMaxTasksPerCommit}),
        consent(config_path, default_config(clock.now()), options.kill_switch, random),
        uploader(io, storage, clock, random, endpoint_for(options.endpoint), "",
                 default_upload_settings(), [this] { return consent.blocker(); }),
        channel(io, storage),
        maintenance(io, clock, consent, channel, platform,
                    [this](std::int64_t n) { uploader.on_events_accepted(n); }),
        facts{"9.9.9", 4242, format_iso8601(kMonday), dir.path(), dir.file("telemetry.sock"), ""},
        context{consent,
                apps,
                channel,
                uploader,
                maintenance,
                scrubber,
                clock,
                platform,
                facts,
                connections,
                [this] { ++stop_requests; }},
        dispatcher(context) {
    Status st = storage.start();
    EXPECT_TRUE(st) << st.message();
  }
  ~CommandFixture() {
    storage.stop();
    io.poll();
  }

  // A connection that said hello as `app` 1.9.16.
  std::shared_ptr<RecordedConnection> hello_connection(const std::string& app = "dollhousemcp") {
    auto c = std::make_shared<RecordedConnection>();
    run(c, {{"op", "hello"}, {"app", app}, {"appVersion", "1.9.16"}, {"mcpClient", "claude-code"}});
    EXPECT_TRUE(c->replies.back().value("ok", false)) << c->replies.back().dump();
    c->replies.clear();
    return c;
  }

  // Sends one request line (v and id added unless present) and waits for `replies` replies.
  nlohmann::json run(const std::shared_ptr<RecordedConnection>& c, nlohmann::json request,
                     std::size_t replies = 1) {
    if (!request.contains("v")) request["v"] = 1;
    if (!request.contains("id")) request["id"] = next_id_++;
    std::size_t before = c->replies.size();
    dispatcher.dispatch(c, ipc::Frame{request.dump(), false});
    run_until([&] { return c->replies.size() >= before + replies; });
    return c->replies.size() > before ? c->replies.back() : nlohmann::json();
  }

  // Sends without waiting (for fire-and-forget messages).
  void send(const std::shared_ptr<RecordedConnection>& c, nlohmann::json request) {
    if (!request.contains("v")) request["v"] = 1;
    dispatcher.dispatch(c, ipc::Frame{request.dump(), false});
  }

  // Turns the I/O loop until `done` or 20 s have passed (a failure).
  void run_until(const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << "timed out waiting for the daemon's parts";
        return;
      }
      io.restart();
      io.run_one_for(std::chrono::milliseconds(10));
    }
  }

  // Gives consent for the current policy with every category on.
  void give_consent() {
    auto c = std::make_shared<RecordedConnection>();
    auto reply = run(c, {{"op", "consent"}, {"enabled", true}});
    ASSERT_TRUE(reply.value("ok", false)) << reply.dump();
  }

  // Stored events, newest first, as `show` returns them (through the real command).
  nlohmann::json shown(int limit = 100) {
    auto c = std::make_shared<RecordedConnection>();
    auto reply = run(c, {{"op", "show"}, {"limit", limit}});
    EXPECT_TRUE(reply.value("ok", false)) << reply.dump();
    return reply["entries"];
  }

  ::dollhouse::testing::TempDir dir;
  boost::asio::io_context io;
  FakeClock clock;
  CountingRandom random;
  std::string config_path;
  StorageWorker storage;
  ConsentState consent;
  Uploader uploader;
  StorageChannel channel;
  privacy::Scrubber scrubber{privacy::MachineIdentity{}};
  PlatformInfo platform{"linux", "Debian 12", "x64"};
  Maintenance maintenance;
  DaemonFacts facts;
  ConnectionCounts connections;
  AppRegistry apps;
  int stop_requests = 0;
  CommandContext context;
  Dispatcher dispatcher;

 private:
  std::unique_ptr<EventStore> open_store() {
    auto opened = SqliteEventStore::open(dir.file("telemetry.db"), to_unix_millis(kMonday));
    if (!opened) {
      ADD_FAILURE() << opened.status().message();
      return nullptr;
    }
    return std::move(opened->store);
  }
  static std::string endpoint_for(const std::string& kind) {
    return kind == "refused" ? ::dollhouse::testing::kRefusedEndpoint : kind;
  }

  int next_id_ = 1;
};

// A valid app event of each kind the tests use.
inline nlohmann::json error_event(const std::string& message = "could not read the config") {
  return {
      {"eventType", "error"},    {"errorType", "runtime"},       {"errorCategory", "CONFIG_ERROR"},
      {"errorMessage", message}, {"component", "config-loader"}, {"recovered", true}};
}

}  // namespace dollhouse::daemon::testing
