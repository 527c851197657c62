// The real dollhouse-telemetry-server over real HTTP on 127.0.0.1, against SQLite and (when
// installed) PostgreSQL: ingest, dedup, privacy re-check, deletion, gzip, limits, keep-alive,
// concurrency and graceful shutdown.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "tests/integration/server_harness.hpp"
#include "tests/integration/server_pg_cluster.hpp"
#include "tests/unit/server/server_samples.hpp"

namespace dollhouse::testing {
namespace {

using namespace server::samples;

class ServerIntegration : public ::testing::TestWithParam<std::string> {
 protected:
  // Starts a server on this test's backend with extra arguments.
  std::unique_ptr<ServerProcess> start(std::vector<std::string> args = {}) {
    std::string database;
    if (GetParam() == "postgresql") {
      auto& cluster = PostgresCluster::instance();
      if (!cluster.available()) return nullptr;
      database = cluster.uri();
    }
    auto server = std::make_unique<ServerProcess>(std::move(args), database);
    EXPECT_TRUE(server->running()) << server->process().err();
    if (GetParam() == "postgresql") {
      EXPECT_TRUE(PostgresCluster::instance().truncate_server_tables());
    }
    return server;
  }
  void SetUp() override {
    if (GetParam() == "postgresql" && !PostgresCluster::instance().available()) {
      GTEST_SKIP() << "PostgreSQL tests skipped: " << PostgresCluster::instance().reason();
    }
  }
  static json health(HttpClient& c) { return c.get("/healthz").json(); }
};

TEST_P(ServerIntegration, IngestDeduplicatesRejectsPersonalDataAndDeletes) {
  auto server = start();
  HttpClient c = server->client();
  json b = batch(
      uuid(1), uuid(100),
      {stamp(installation(), uuid(1)), stamp(crash(), uuid(1)), stamp(crash_with_pii(), uuid(1))});
  HttpReply r = c.post_batch(b);
  ASSERT_EQ(r.status, 202) << r.body << r.error;
  EXPECT_EQ(r.json()["accepted"], 2);
  EXPECT_EQ(r.json()["rejected"], 1);
  EXPECT_EQ(r.json()["duplicate"], false);
  HttpReply again = c.post_batch(b);
  ASSERT_EQ(again.status, 202);
  EXPECT_EQ(again.json()["duplicate"], true);
  json h = health(c);
  EXPECT_EQ(h["rawEvents"], 2);
  EXPECT_EQ(h["counters"]["eventsRejectedPii"], 1);
  json errors = c.get("/api/v1/stats/errors?from=2025-01-01&to=2025-01-31").json();
  EXPECT_EQ(errors["crashes"], 1);

  EXPECT_EQ(c.del("/api/v1/telemetry/" + uuid(1)).status, 204);
  EXPECT_EQ(c.del("/api/v1/telemetry/" + uuid(1)).status, 404);
  EXPECT_EQ(c.del("/api/v1/events/" + uuid(2)).status, 404);
  EXPECT_EQ(health(c)["rawEvents"], 0);
  EXPECT_EQ(health(c)["deletionRecords"], 3);
  // Neither the installId nor a client address ever reaches the log.
  ASSERT_TRUE(server->stop().value_or(-1) == 0);
  EXPECT_EQ(server->process().err().find(uuid(1)), std::string::npos);
  EXPECT_EQ(server->process().err().find("127.0.0.1:" + std::to_string(server->port() + 0) + " "),
            std::string::npos);
}

TEST_P(ServerIntegration, GzipBodiesAreAcceptedAndInflationIsBounded) {
  auto server = start({"--max-body-bytes", "65536"});
  HttpClient c = server->client();
  HttpReply r = c.post_batch(batch(uuid(1), uuid(100), {stamp(update(true), uuid(1))}), true);
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(r.json()["accepted"], 1);
  // 10 kB of gzip that inflates past the 64 KiB bound.
  json bomb = batch(uuid(1), uuid(101), json::array());
  bomb["padding"] = std::string(200000, ' ');
  HttpReply big = c.post_batch(bomb, true);
  EXPECT_EQ(big.status, 413) << big.body;
  HttpReply garbage =
      c.send({"POST",
              "/api/v1/telemetry",
              "not gzip",
              {{"Content-Type", "application/json"}, {"Content-Encoding", "gzip"}}});
  EXPECT_EQ(garbage.status, 400);
  HttpReply brotli = c.send({"POST",
                             "/api/v1/telemetry",
                             "{}",
                             {{"Content-Type", "application/json"}, {"Content-Encoding", "br"}}});
  EXPECT_EQ(brotli.status, 415);
}

TEST_P(ServerIntegration, OversizeAndMalformedRequestsAreRefusedWithTheRightStatus) {
  auto server = start();
  HttpClient c = server->client();
  HttpReply big = c.send({"POST",
                          "/api/v1/telemetry",
                          std::string((1 << 20) + 10, 'x'),
                          {{"Content-Type", "application/json"}}});
  EXPECT_EQ(big.status, 413) << big.error;
  HttpReply headers = c.send({"GET", "/healthz", "", {{"X-Padding", std::string(9000, 'a')}}});
  EXPECT_EQ(headers.status, 431) << headers.error;
  HttpReply bad_json = c.send(
      {"POST", "/api/v1/telemetry", "{\"installId\":", {{"Content-Type", "application/json"}}});
  EXPECT_EQ(bad_json.status, 400);
  EXPECT_EQ(bad_json.json()["error"]["code"], "invalid_json");
  EXPECT_EQ(c.raw("NOT HTTP AT ALL\r\n\r\n").rfind("HTTP/1.1 400", 0), 0u);
  EXPECT_EQ(c.get("/api/v1/stats/errors?from=yesterday").status, 400);
  // The server is still fine.
  EXPECT_EQ(c.get("/healthz").status, 200);
}

TEST_P(ServerIntegration, KeepAliveServesManyRequestsOnOneConnection) {
  auto server = start();
  HttpClient c = server->client();
  for (int i = 0; i < 5; ++i) ASSERT_EQ(c.get("/healthz").status, 200);
  ASSERT_EQ(c.post_batch(batch(uuid(1), uuid(100), {stamp(crash(), uuid(1))})).status, 202);
  EXPECT_EQ(c.get("/").status, 200);
  EXPECT_EQ(c.connections_opened(), 1);
}

TEST_P(ServerIntegration, ManyClientsPostingAtOnceLoseNothingAndDoubleNothing) {
  auto server = start({"--rate-limit", "0"});
  constexpr int kClients = 8, kBatches = 15, kEvents = 4;
  std::atomic<int> accepted{0}, duplicates{0}, failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kClients; ++t) {
    threads.emplace_back([&, t] {
      HttpClient c = server->client();
      for (int b = 0; b < kBatches; ++b) {
        const std::string install = uuid(t + 1);
        json events = json::array();
        for (int e = 0; e < kEvents; ++e) events.push_back(stamp(error_event(), install));
        json body = batch(install, uuid(1000 + t * 100 + b), events);
        // Every batch is delivered twice, as a retry after a lost answer would.
        for (int attempt = 0; attempt < 2; ++attempt) {
          HttpReply r = c.post_batch(body, attempt == 1);
          if (r.status != 202) {
            failures++;
          } else if (r.json()["duplicate"] == true) {
            duplicates++;
          } else {
            accepted += r.json()["accepted"].get<int>();
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(accepted.load(), kClients * kBatches * kEvents);
  EXPECT_EQ(duplicates.load(), kClients * kBatches);
  HttpClient c = server->client();
  json h = health(c);
  EXPECT_EQ(h["rawEvents"], kClients * kBatches * kEvents);
  json errors = c.get("/api/v1/stats/errors?from=2025-01-01&to=2025-01-31").json();
  EXPECT_EQ(errors["errors"], kClients * kBatches * kEvents);
}

TEST_P(ServerIntegration, WritesBeyondTheGlobalRateGet429WithRetryAfter) {
  auto server = start({"--rate-limit", "0.2", "--rate-burst", "2"});
  HttpClient c = server->client();
  EXPECT_EQ(c.post_batch(batch(uuid(1), uuid(100), json::array())).status, 202);
  EXPECT_EQ(c.post_batch(batch(uuid(1), uuid(101), json::array())).status, 202);
  HttpReply limited = c.post_batch(batch(uuid(1), uuid(102), json::array()));
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.headers["retry-after"], "5");
  // Reads are not limited.
  EXPECT_EQ(c.get("/api/v1/stats/usage").status, 200);
}

TEST_P(ServerIntegration, ConnectionsBeyondTheLimitGet503WithRetryAfter) {
  auto server = start({"--max-connections", "2"});
  HttpClient a = server->client(), b = server->client(), extra = server->client();
  ASSERT_EQ(a.get("/healthz").status, 200);
  ASSERT_EQ(b.get("/healthz").status, 200);
  HttpReply r = extra.get("/healthz");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.headers["retry-after"], "1");
  a.close();
  // Once a connection is gone, a new one is served (the server notices the close promptly).
  bool served = false;
  for (int i = 0; i < 200 && !served; ++i) {
    HttpClient again = server->client();
    served = again.get("/healthz").status == 200;
  }
  EXPECT_TRUE(served);
}

TEST_P(ServerIntegration, SigtermStopsPromptlyEvenWithIdleKeepAliveConnections) {
  auto server = start();
  HttpClient idle = server->client();
  ASSERT_EQ(idle.get("/healthz").status, 200);
  auto start_time = std::chrono::steady_clock::now();
  EXPECT_EQ(server->stop(), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start_time, std::chrono::seconds(5));
  EXPECT_NE(server->process().err().find("stopped"), std::string::npos);
}

TEST_P(ServerIntegration, AClientThatNeverFinishesItsRequestIsCutOffAtTheIdleTimeout) {
  auto server = start({"--idle-timeout", "1"});
  HttpClient c = server->client();
  auto began = std::chrono::steady_clock::now();
  // Headers that never end: the server gives up after the timeout and closes, answering nothing.
  EXPECT_EQ(c.raw("GET /healthz HTTP/1.1\r\nHost: x\r\n"), "");
  auto waited = std::chrono::steady_clock::now() - began;
  EXPECT_GE(waited, std::chrono::milliseconds(900));
  EXPECT_LT(waited, std::chrono::seconds(10));
  EXPECT_EQ(c.get("/healthz").status, 200);
}

TEST_P(ServerIntegration, CrashAnalyticsOverHttpKeepOnlySignaturesEnoughInstallationsReported) {
  auto server = start({"--rate-limit", "0", "--min-installations", "3"});
  HttpClient c = server->client();
  for (long i = 1; i <= 4; ++i) {
    json events = {stamp(crash("MODULE_NOT_FOUND", "Loader"), uuid(i))};
    if (i == 1) events.push_back(stamp(crash("RARE", "Once"), uuid(i)));
    ASSERT_EQ(c.post_batch(batch(uuid(i), uuid(100 + i), events)).status, 202);
  }
  json body = c.get("/api/v1/stats/crashes?from=2025-01-13&to=2025-01-13&app=dollhousemcp").json();
  EXPECT_EQ(body["crashes"], 5);
  EXPECT_EQ(body["installationDays"], 4);
  EXPECT_EQ(body["crashFreeRate"], 0);
  ASSERT_EQ(body["top"].size(), 1u) << body.dump();
  EXPECT_EQ(body["top"][0]["category"], "MODULE_NOT_FOUND");
  EXPECT_EQ(body["top"][0]["installationDays"], 4);
  EXPECT_EQ(body["other"]["crash"], 1);
  HttpReply csv = c.get("/api/v1/export?dataset=crashes&format=csv&from=2025-01-13&to=2025-01-13");
  EXPECT_EQ(csv.status, 200);
  EXPECT_EQ(csv.headers["content-type"], "text/csv; charset=utf-8; header=present");
  EXPECT_EQ(csv.body.rfind("date,app,metric,dimension,value\r\n", 0), 0u) << csv.body;
  EXPECT_EQ(csv.body.find("RARE"), std::string::npos);
}

TEST_P(ServerIntegration, AStatsTokenFileGuardsStatsExportsAndReports) {
  TempDir dir;
  const std::string token_file = dir.file("stats-token");
  {
    std::ofstream out(token_file);
    out << "s3cr3t-t0ken\n";
  }
  auto server = start({"--stats-token-file", token_file});
  HttpClient c = server->client();
  for (const char* path :
       {"/api/v1/stats/errors", "/api/v1/export?dataset=usage", "/api/v1/reports/weekly"}) {
    HttpReply denied = c.get(path);
    EXPECT_EQ(denied.status, 401) << path;
    EXPECT_EQ(denied.headers["www-authenticate"], "Bearer realm=\"dollhouse-telemetry stats\"");
    HttpRequest req;
    req.target = path;
    req.headers = {{"Authorization", "Bearer s3cr3t-t0ken"}};
    EXPECT_EQ(c.send(req).status, 200) << path;
  }
  EXPECT_EQ(c.get("/").status, 200);
  EXPECT_EQ(c.post_batch(batch(uuid(1), uuid(100), {stamp(installation(), uuid(1))})).status, 202);
  // Nor does the server log it.
  EXPECT_EQ(server->process().err().find("s3cr3t"), std::string::npos);
}

TEST(ServerOptions, AnEmptyStatsTokenIsRefusedRatherThanLeavingTheStatsPublic) {
  TempDir dir;
  RunResult r = run_process({build_bin("dollhouse-telemetry-server"), "--listen", "127.0.0.1:0",
                             "--database", dir.file("server.db"), "--stats-token", ""},
                            base_env(dir.path()), "", std::chrono::seconds(30));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--stats-token: the token is empty"), std::string::npos) << r.err;
}

INSTANTIATE_TEST_SUITE_P(Backends, ServerIntegration, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace dollhouse::testing
