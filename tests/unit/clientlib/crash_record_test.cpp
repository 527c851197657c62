// The crash record text prepared before any crash, and what the client reads from a hello
// reply (consent, setup outcomes) and prints in the developer echo. Pure functions.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "clientlib/crash_record.hpp"
#include "clientlib/event_json.hpp"

namespace dollhouse::telemetry::detail {
namespace {

using nlohmann::json;

std::string assemble(const CrashRecordText& text, CrashKind kind, std::uint64_t time,
                     bool startup) {
  char digits[24];
  std::size_t n = format_decimal(time, digits);
  const auto i = static_cast<std::size_t>(kind);
  return text.head + std::string(digits, n) +
         (startup ? text.startup_tail[i] : text.runtime_tail[i]);
}

TEST(CrashRecordText, HeadTimeAndTailMakeTheRecordOfTheContract) {
  auto text = prepare_crash_record({"@scope/App", "1.9.16", "", "claude-code", ""});
  ASSERT_TRUE(text);
  json record = json::parse(assemble(*text, CrashKind::kSegv, 1764633600000, false));
  EXPECT_EQ(record["v"], 1);
  EXPECT_EQ(record["app"], "@scope/App");
  EXPECT_EQ(record["appVersion"], "1.9.16");
  EXPECT_EQ(record["mcpClient"], "claude-code");
  EXPECT_FALSE(record.contains("nodeVersion")) << "left out when not given";
  EXPECT_EQ(record["time"], 1764633600000);
  EXPECT_EQ(record["event"], (json{{"eventType", "crash"},
                                   {"errorType", "runtime"},
                                   {"errorCategory", "SIGSEGV"},
                                   {"errorMessage", "fatal signal SIGSEGV"},
                                   {"component", "native"},
                                   {"recovered", false}}));
  EXPECT_EQ(text->file_prefix, "_scope__pp-");
}

TEST(CrashRecordText, EveryKindHasItsCategoryAndAStartupForm) {
  auto text = prepare_crash_record({"demo", "1.0.0", "20.10.0", "", "renderer \"main\""});
  ASSERT_TRUE(text);
  const char* expected[] = {"SIGSEGV", "SIGBUS", "SIGFPE", "SIGILL", "SIGABRT", "std::terminate"};
  for (std::size_t i = 0; i < kCrashKindCount; ++i) {
    json record = json::parse(assemble(*text, static_cast<CrashKind>(i), 7, true));
    EXPECT_EQ(record["event"]["errorCategory"], expected[i]);
    EXPECT_EQ(record["event"]["errorType"], "startup");
    EXPECT_EQ(record["event"]["component"], "renderer \"main\"") << "escaped in advance";
    EXPECT_EQ(record["nodeVersion"], "20.10.0");
  }
}

TEST(CrashRecordText, ARecordThatWouldNotFitTheLimitIsRefused) {
  EXPECT_FALSE(
      prepare_crash_record({"demo", "1.0.0", "", "", std::string(kMaxCrashRecordBytes, 'c')}));
}

TEST(CrashRecordText, DecimalDigitsAreWrittenByHand) {
  char digits[24];
  EXPECT_EQ(std::string(digits, format_decimal(0, digits)), "0");
  EXPECT_EQ(std::string(digits, format_decimal(18446744073709551615ull, digits)),
            "18446744073709551615");
}

TEST(HelloReply, ConsentAndSetupOutcomesAreRead) {
  json body = {{"consent",
                {{"enabled", true},
                 {"state", "given"},
                 {"blockedBy", nullptr},
                 {"categories", {{"crash", false}}}}},
               {"setup", {{"installation", "counted"}, {"update 2.0.1", "pending"}}}};
  HelloOutcome outcome = read_hello_reply(body);
  EXPECT_EQ(outcome.consent.answer, ConsentAnswer::kGiven);
  EXPECT_TRUE(outcome.consent.collecting);
  EXPECT_FALSE(outcome.consent.crash_reports) << "the crash category is off";
  EXPECT_TRUE(setup_settled(outcome, installation_event({"npm", "new", ""})));
  EXPECT_FALSE(setup_settled(outcome, update_event({"2.0.0", "2.0.1", true, "", 1})));
  EXPECT_FALSE(
      setup_settled(read_hello_reply(json::object()), installation_event({"npm", "new", ""})))
      << "no outcome: send it again";
  EXPECT_TRUE(setup_settled(read_hello_reply({{"setup", {{"invalid", "bad"}}}}),
                            installation_event({"pip", "new", ""})))
      << "refused as invalid: never accepted, so not sent again";
}

TEST(HelloReply, HelloCarriesSetupOnlyWhenThereIsSome) {
  ClientOptions options;
  options.app = "demo";
  options.app_version = "1.0.0";
  json without = json::parse(hello_line(options, 1));
  EXPECT_FALSE(without.contains("setup"));
  json with =
      json::parse(hello_line(options, 2, json::array({installation_event({"npm", "new", ""})})));
  ASSERT_EQ(with["setup"].size(), 1u);
  EXPECT_EQ(with["setup"][0]["installMethod"], "npm");
}

TEST(DeveloperEcho, VerdictsNameTheOutcomeAndTheFieldAtFault) {
  EXPECT_EQ(verdict_of({1, true, {{"id", 1}, {"ok", true}, {"accepted", true}}}), "stored");
  EXPECT_EQ(verdict_of({1, true, {{"accepted", false}, {"reason", "no_consent"}}}),
            "dropped: no_consent");
  json error = {{"error",
                 {{"code", "invalid_event"},
                  {"message", "errorType must be one of startup, runtime"},
                  {"path", "/errorType"},
                  {"expected", "one of startup|runtime"}}}};
  EXPECT_EQ(verdict_of({1, false, error}),
            "invalid_event: errorType must be one of startup, runtime (at /errorType, expected "
            "one of startup|runtime)");
  auto line = with_id("{\"v\":1,\"op\":\"track\",\"event\":{\"eventType\":\"crash\"}}\n", 9);
  ASSERT_TRUE(line);
  EXPECT_EQ(json::parse(*line)["id"], 9);
  EXPECT_EQ(echo_subject(*line), "track {\"eventType\":\"crash\"}");
}

}  // namespace
}  // namespace dollhouse::telemetry::detail
