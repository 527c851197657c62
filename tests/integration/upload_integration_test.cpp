// The daemon's uploader against real HTTP(S) servers on 127.0.0.1 whose answers each test
// scripts (tests/support/scripted_http_server.py): retries keep the batch id, Retry-After is
// honoured, stuck and broken servers are survived, TLS is verified, refused batches are
// dropped with a reason, a kill -9 between send and acknowledgement re-sends the same batch,
// and remote deletion reaches the server first.
#include <signal.h>

#include <fstream>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "common/clock.hpp"
#include "tests/support/daemon_harness.hpp"
#include "tests/support/scripted_server.hpp"

namespace dollhouse::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

const json kCrash = {{"eventType", "crash"},          {"errorType", "runtime"},
                     {"errorCategory", "ECONNRESET"}, {"errorMessage", "socket hang up"},
                     {"component", "GitHubAuth"},     {"recovered", true}};

// Fast schedule for tests: 50 ms first retry window, 400 ms cap, 2 s per request.
const std::vector<std::string> kFastRetry = {"--backoff-base",    "50",  "--backoff-cap", "400",
                                             "--request-timeout", "2000"};

void send_events(DaemonHarness& h, int n, const std::string& tag = "") {
  TestClient c = h.client();
  c.hello();
  for (int i = 0; i < n; ++i) {
    json e = kCrash;
    e["errorMessage"] = "socket hang up " + tag + std::to_string(i);
    c.send({{"op", "track"}, {"event", e}});
  }
  ASSERT_EQ(c.request({{"op", "sync"}})["accepted"], n);
}

json flush(DaemonHarness& h) {
  return h.client().request({{"op", "flush"}}, seconds(60));
}

std::set<std::string> messages_in(const json& body) {
  std::set<std::string> out;
  for (const auto& e : body["events"]) out.insert(e["errorMessage"].get<std::string>());
  return out;
}

TEST(Upload, ServerErrorsAreRetriedWithTheSameBatchIdUntilDelivered) {
  ScriptedServer server("500,500,503,202");
  ASSERT_GT(server.port(), 0);
  DaemonHarness h;
  ASSERT_TRUE(h.start({{"DOLLHOUSE_TELEMETRY_ENDPOINT", server.url()}}, kFastRetry));
  ASSERT_TRUE(h.enable()["ok"].get<bool>());
  send_events(h, 7);
  json first = flush(h);
  ASSERT_TRUE(first["ok"].get<bool>()) << first.dump();
  EXPECT_EQ(first["flush"]["sentEvents"], 0);
  EXPECT_NE(first["flush"]["error"].get<std::string>().find("500"), std::string::npos);
  // The timer retries on its own, with growing jittered gaps, until the 202.
  ASSERT_TRUE(server.wait_requests(4)) << server.requests().size();
  json after = flush(h);  // waits for the running cycle, then finds nothing left
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 4u);
  std::string batch_id = requests[0]["body"]["batchId"];
  for (const auto& r : requests) {
    EXPECT_EQ(r["method"], "POST");
    EXPECT_EQ(r["path"], "/api/v1/telemetry");
    EXPECT_EQ(r["body"]["batchId"], batch_id);
    EXPECT_EQ(r["headers"]["idempotency-key"], batch_id);
    EXPECT_EQ(r["headers"]["x-telemetry-version"], "1.0");
    EXPECT_EQ(r["headers"]["content-type"], "application/json");
    EXPECT_EQ(r["headers"].count("cookie"), 0u);
    EXPECT_EQ(r["body"]["events"].size(), 7u);
  }
  EXPECT_EQ(messages_in(requests[3]["body"]).size(), 7u) << "every event once";
  json status = h.status();
  EXPECT_EQ(status["upload"]["consecutiveFailures"], 0);
  EXPECT_EQ(status["upload"]["eventsSent"], 7);
  EXPECT_EQ(status["queue"]["pending"], 0);
  EXPECT_EQ(status["queue"]["sent"], 7);
  for (const auto& e : h.entries()) EXPECT_TRUE(e["sentToServer"].get<bool>());
}

TEST(Upload, RetryAfterIsHonouredInSecondsAndAsADate) {
  for (const std::string script : {"429:2,202", "503:date:3,202"}) {
    ScriptedServer server(script);
    DaemonHarness h;
    ASSERT_TRUE(h.start({{"DOLLHOUSE_TELEMETRY_ENDPOINT", server.url()}}, kFastRetry));
    h.enable();
    send_events(h, 2);
    auto before = std::chrono::system_clock::now();
    json first = flush(h);
    EXPECT_FALSE(first["flush"]["error"].is_null()) << script;
    json status = h.status();
    SystemTime next;
    ASSERT_TRUE(parse_iso8601(status["upload"]["nextAttempt"].get<std::string>(), next));
    // The backoff alone would retry within 50 ms; the server asked for seconds.
    EXPECT_GT(next - before, milliseconds(1000)) << script;
    EXPECT_LT(next - before, seconds(5)) << script;
    EXPECT_EQ(status["upload"]["consecutiveFailures"], 1);
    ASSERT_TRUE(server.wait_requests(2)) << script;
    auto requests = server.requests();
    double gap = requests[1]["at"].get<double>() - requests[0]["at"].get<double>();
    EXPECT_GT(gap, 1.0) << script;
  }
}

TEST(Upload, TheBackoffScheduleSurvivesARestart) {
  ScriptedServer server("500");
  DaemonHarness h;
  const std::vector<std::string> slow = {"--backoff-base", "600000", "--backoff-cap", "600000"};
  ASSERT_TRUE(h.start({{"DOLLHOUSE_TELEMETRY_ENDPOINT", server.url()}}, slow));
  h.enable();
  send_events(h, 2);
  flush(h);
  json before = h.status()["upload"];
  ASSERT_EQ(before["consecutiveFailures"], 1);
  ASSERT_EQ(h.stop(), 0);
  std::size_t requests_before_restart = server.requests().size();
  ASSERT_TRUE(h.start({{"DOLLHOUSE_TELEMETRY_ENDPOINT", server.url()}}, slow));
  json after = h.status()["upload"];
  EXPECT_EQ(after["consecutiveFailures"], 1);
  EXPECT_EQ(after["nextAttempt"], before["nextAttempt"]);
  EXPECT_EQ(after["lastError"], before["lastError"]);
  EXPECT_EQ(after["pendingBatches"], 1);
  EXPECT_EQ(server.requests().size(), requests_before_restart) << "no retry storm at start";
}

TEST(Upload, AFlushAskedForDuringABackoffNeitherLengthensNorShortensIt) {
  ScriptedServer server("500");
  DaemonHarness h;
  const std::vector<std::string> slow = {"--backoff-base", "600000", "--backoff-cap", "3600000"};
  ASSERT_TRUE(h.start({{"DOLLHOUSE_TELEMETRY_ENDPOINT", server.url()}}, slow));
  h.enable();
  send_events(h, 2);
  flush(h);
  json first = h.status()["upload"];
  ASSERT_EQ(first["consecutiveFailures"], 1);
  ASSERT_TRUE(first["nextAttempt"].is_string()) << first.dump();
  for (int i = 0; i < 3; ++i) {
    json reply = flush(h);
    EXPECT_TRUE(reply["flush"]["error"].is_string()) << reply.dump();
    EXPECT_EQ(reply["flush"]["nextAttempt"], first["nextAttempt"]) << reply.dump();
  }
  EXPECT_TRUE(server.wait_requests(4)) << "each flush was tried";
  json after = h.status()["upload"];
  EXPECT_EQ(after["consecutiveFailures"], 1);
  EXPECT_EQ(after["nextAttempt"], first["nextAttempt"]);
}

TEST(Upload, AServerThatNeverAnswersTimesOutAndIsRetried) {
  ScriptedServer server("hang,202");
  DaemonHarness h;
  ASSERT_TRUE(
      h.start({{"DOLLHOUSE_TELEMETRY_ENDPOINT", server.url()}},
              {"--backoff-base", "50", "--backoff-cap", "100", "--request-timeout", "500"}));
  h.enable();
  send_events(h, 3);
  json first = flush(h);
  EXPECT_NE(first["flush"]["error"].get<std::string>().find("no complete answer"),
            std::string::npos)
      << first.dump();
  ASSERT_TRUE(server.wait_requests(2));
  flush(h);
  EXPECT_EQ(h.status()["queue"]["sent"], 3);
}

TEST(Upload, AServerThatClosesMidResponseIsRetried) {
  ScriptedServer server("close,202");
  DaemonHarness h;
  ASSERT_TRUE(h.start({{"DOLLHOUSE_TELEMETRY_ENDPOINT", server.url()}}, kFastRetry));
  h.enable();
  send_events(h, 3);
  json first = flush(h);
  EXPECT_FALSE(first["flush"]["error"].is_null());
  ASSERT_TRUE(server.wait_requests(2));
  flush(h);
  auto requests = server.requests();
  EXPECT_EQ(requests[0]["body"]["batchId"], requests[1]["body"]["batchId"]);
  EXPECT_EQ(h.status()["queue"]["sent"], 3);
}

TEST(Upload, APermanentRefusalDropsTheBatchWithAReason) {
  ScriptedServer server("413,202");
  DaemonHarness h;
  ASSERT_TRUE(h.start({{"DOLLHOUSE_TELEMETRY_ENDPOINT", server.url()}}, kFastRetry));
  h.enable();
  send_events(h, 4);
  json outcome = flush(h);
  EXPECT_EQ(outcome["flush"]["droppedByServer"], 4);
  json status = h.status();
  EXPECT_EQ(status["queue"]["dropped"]["rejected_by_server"], 4);
  EXPECT_NE(status["upload"]["lastError"].get<std::string>().find("413"), std::string::npos);
  EXPECT_EQ(status["queue"]["pending"], 0);
  EXPECT_EQ(server.requests().size(), 1u) << "not retried";
}

TEST(Upload, KillNineBetweenSendAndAcknowledgementResendsTheSameBatch) {
  ScriptedServer server("hang,202");
  DaemonHarness h;
  ASSERT_TRUE(h.start({{"DOLLHOUSE_TELEMETRY_ENDPOINT", server.url()}}, kFastRetry));
  h.enable();
  send_events(h, 5);
  h.client().send({{"op", "flush"}});
  ASSERT_TRUE(server.wait_requests(1));
  h.kill9();
  ASSERT_TRUE(h.start({{"DOLLHOUSE_TELEMETRY_ENDPOINT", server.url()}}, kFastRetry));
  json outcome = flush(h);
  EXPECT_EQ(outcome["flush"]["sentEvents"], 5) << outcome.dump();
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0]["body"]["batchId"], requests[1]["body"]["batchId"]);
  EXPECT_EQ(messages_in(requests[1]["body"]).size(), 5u);
}

TEST(Upload, WithdrawnConsentSendsNothingMore) {
  ScriptedServer server("500,202");
  DaemonHarness h;
  ASSERT_TRUE(h.start({{"DOLLHOUSE_TELEMETRY_ENDPOINT", server.url()}},
                      {"--backoff-base", "60000", "--backoff-cap", "60000"}));
  h.enable();
  send_events(h, 3);
  flush(h);  // fails; the next attempt would be up to a minute away
  ASSERT_TRUE(h.client().request({{"op", "consent"}, {"enabled", false}})["ok"].get<bool>());
  json outcome = flush(h);
  EXPECT_EQ(outcome["flush"]["sentEvents"], 0);
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(Upload, RemoteDeletionGoesFirstAndRotatesTheInstallId) {
  ScriptedServer server("204");
  DaemonHarness h;
  ASSERT_TRUE(h.start({{"DOLLHOUSE_TELEMETRY_ENDPOINT", server.url()}}, kFastRetry));
  h.enable();
  send_events(h, 2);
  std::string old_id = h.status()["installId"];
  RunResult r = h.ctl({"telemetry", "delete", "--remote"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Asked the server"), std::string::npos) << r.out;
  ASSERT_TRUE(server.wait_requests(1));
  flush(h);
  auto requests = server.requests();
  ASSERT_GE(requests.size(), 1u);
  EXPECT_EQ(requests[0]["method"], "DELETE");
  EXPECT_EQ(requests[0]["path"], "/api/v1/telemetry/" + old_id);
  json status = h.status();
  EXPECT_NE(status["installId"], old_id);
  EXPECT_EQ(status["remoteDeletion"]["pending"], 0);
  EXPECT_TRUE(status["remoteDeletion"]["lastCompleted"].is_string());
  EXPECT_EQ(status["queue"]["dropped"]["deleted_remote"], 2) << "unsent events with the old id";
}

TEST(Upload, RemoteDeletionIsRetriedEvenWhenTelemetryIsOff) {
  ScriptedServer server("503,500,404");
  DaemonHarness h;
  ASSERT_TRUE(h.start({{"DOLLHOUSE_TELEMETRY_ENDPOINT", server.url()}}, kFastRetry));
  h.enable();
  ASSERT_EQ(h.ctl({"telemetry", "disable"}).exit_code, 0);
  ASSERT_EQ(h.ctl({"telemetry", "delete", "--all"}).exit_code, 0);
  ASSERT_TRUE(server.wait_requests(3));
  flush(h);
  for (const auto& req : server.requests()) EXPECT_EQ(req["method"], "DELETE");
  EXPECT_EQ(h.status()["remoteDeletion"]["pending"], 0) << "404 means nothing was held: done";
}

TEST(Upload, PlainHttpToAnotherHostIsRefused) {
  DaemonHarness h;
  ASSERT_TRUE(h.start({{"DOLLHOUSE_TELEMETRY_ENDPOINT", "http://telemetry.example.com/api"}}));
  json status = h.status();
  EXPECT_FALSE(status["upload"]["configured"].get<bool>());
  EXPECT_NE(status["upload"]["configError"].get<std::string>().find("https://"), std::string::npos);
  RunResult r = h.ctl({"telemetry", "flush"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not_configured"), std::string::npos) << r.err;
}

// TLS material made with the openssl command for one test: a CA, a server certificate it
// signed for `host`, and a self-signed one.
struct TestPki {
  TestPki(const TempDir& dir, const std::string& host) : dir_(dir), prefix_(host + "-") {
    auto openssl = [&](std::vector<std::string> args) {
      args.insert(args.begin(), "/usr/bin/openssl");
      RunResult r = run_process(args, base_env("/tmp"));
      ok = ok && r.exit_code == 0;
    };
    std::string ec = "ec_paramgen_curve:prime256v1";
    openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", ec, "-nodes", "-keyout", f("ca.key"),
             "-out", f("ca.pem"), "-days", "2", "-subj", "/CN=Dollhouse Test CA"});
    openssl({"req", "-newkey", "ec", "-pkeyopt", ec, "-nodes", "-keyout", f("server.key"), "-out",
             f("server.csr"), "-subj", "/CN=" + host});
    std::ofstream(f("ext.cnf")) << "subjectAltName=DNS:" << host << "\n";
    openssl({"x509", "-req", "-in", f("server.csr"), "-CA", f("ca.pem"), "-CAkey", f("ca.key"),
             "-CAcreateserial", "-out", f("server.pem"), "-days", "2", "-extfile", f("ext.cnf")});
    openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", ec, "-nodes", "-keyout", f("self.key"),
             "-out", f("self.pem"), "-days", "2", "-subj", "/CN=" + host, "-addext",
             "subjectAltName=DNS:" + host});
  }
  std::string f(const std::string& name) const { return dir_.file(prefix_ + name); }
  const TempDir& dir_;
  std::string prefix_;
  bool ok = true;
};

TEST(Upload, TlsWithTheConfiguredCaIsAccepted) {
  DaemonHarness h;
  TestPki pki(h.dir(), "localhost");
  ASSERT_TRUE(pki.ok);
  ScriptedServer server("202", pki.f("server.pem"), pki.f("server.key"));
  ASSERT_TRUE(h.start({{"DOLLHOUSE_TELEMETRY_ENDPOINT", server.url("https", "localhost")},
                       {"DOLLHOUSE_TELEMETRY_CA_FILE", pki.f("ca.pem")}},
                      kFastRetry));
  h.enable();
  send_events(h, 2);
  json outcome = flush(h);
  EXPECT_EQ(outcome["flush"]["sentEvents"], 2) << outcome.dump();
  EXPECT_TRUE(outcome["flush"]["error"].is_null());
}

TEST(Upload, TlsWithAnUntrustedOrWrongHostCertificateIsRefused) {
  DaemonHarness h;
  TestPki pki(h.dir(), "otherhost.example");
  ASSERT_TRUE(pki.ok);
  struct Case {
    std::string cert, key;
  };
  // Signed by the trusted CA but for another name; and self-signed for the right name.
  TestPki right_name(h.dir(), "localhost");
  for (const Case& c : {Case{pki.f("server.pem"), pki.f("server.key")},
                        Case{right_name.f("self.pem"), right_name.f("self.key")}}) {
    ScriptedServer server("202", c.cert, c.key);
    DaemonHarness d;
    ASSERT_TRUE(d.start({{"DOLLHOUSE_TELEMETRY_ENDPOINT", server.url("https", "localhost")},
                         {"DOLLHOUSE_TELEMETRY_CA_FILE", right_name.f("ca.pem")}},
                        kFastRetry));
    d.enable();
    send_events(d, 1);
    json outcome = flush(d);
    EXPECT_EQ(outcome["flush"]["sentEvents"], 0);
    EXPECT_NE(outcome["flush"]["error"].get<std::string>().find("TLS handshake failed"),
              std::string::npos)
        << outcome.dump();
    EXPECT_EQ(d.status()["queue"]["pending"], 1) << "kept for a later attempt";
  }
}

TEST(Upload, ShutdownFlushesWhatIsPendingWithinItsDeadline) {
  ScriptedServer server("202");
  DaemonHarness h;
  ASSERT_TRUE(h.start({{"DOLLHOUSE_TELEMETRY_ENDPOINT", server.url()}}, kFastRetry));
  h.enable();
  send_events(h, 3);
  ASSERT_EQ(h.stop(), 0);
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0]["body"]["events"].size(), 3u);
  ASSERT_TRUE(h.start({{"DOLLHOUSE_TELEMETRY_ENDPOINT", server.url()}}, kFastRetry));
  EXPECT_EQ(h.status()["queue"]["sent"], 3);
}

TEST(Upload, LargeBatchesAreSplitAndGzipped) {
  ScriptedServer server("202");
  DaemonHarness h;
  ASSERT_TRUE(h.start({{"DOLLHOUSE_TELEMETRY_ENDPOINT", server.url()}}, kFastRetry));
  h.enable();
  send_events(h, 1200, "x");
  json outcome = flush(h);
  EXPECT_EQ(outcome["flush"]["sentEvents"], 1200);
  std::set<std::string> seen;
  std::set<std::string> batches;
  for (const auto& r : server.requests()) {
    EXPECT_EQ(r["headers"]["content-encoding"], "gzip");
    EXPECT_LE(r["body"]["events"].size(), 500u);
    batches.insert(r["body"]["batchId"].get<std::string>());
    for (const auto& m : messages_in(r["body"])) EXPECT_TRUE(seen.insert(m).second) << m;
  }
  EXPECT_EQ(seen.size(), 1200u);
  EXPECT_EQ(batches.size(), server.requests().size());
}

TEST(Upload, ABatchTheServerAlreadyHadIsNotCountedAsSentAgain) {
  ScriptedServer server("dup");
  DaemonHarness h;
  ASSERT_TRUE(h.start({{"DOLLHOUSE_TELEMETRY_ENDPOINT", server.url()}}, kFastRetry));
  h.enable();
  send_events(h, 4);
  json outcome = flush(h);
  EXPECT_EQ(outcome["flush"]["sentEvents"], 0) << outcome.dump();
  EXPECT_EQ(outcome["flush"]["alreadyDelivered"], 4);
  json status = h.client().request({{"op", "status"}});
  EXPECT_EQ(status["upload"]["eventsSent"], 0) << status["upload"].dump();
  EXPECT_EQ(status["upload"]["duplicateBatches"], 1);
  EXPECT_EQ(status["queue"]["pending"], 0) << "acknowledged, so marked sent";
}

}  // namespace
}  // namespace dollhouse::testing
