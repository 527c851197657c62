// Event schemas: allowlists, enums, types, bounds, stamped fields and the weekly summary rule.
#include <gtest/gtest.h>

#include <string>

#include "tests/unit/privacy/fake_identity.hpp"

namespace dollhouse::privacy {
namespace {

using nlohmann::json;
using namespace std::string_literals;

const Scrubber& scrubber() {
  static const Scrubber kScrubber(testing::fake_identity());
  return kScrubber;
}

json installation() {
  return {{"eventType", "installation"},
          {"installMethod", "npm"},
          {"installType", "upgrade"},
          {"previousVersion", "1.9.15"}};
}
json update() {
  return {{"eventType", "update"}, {"fromVersion", "1.9.15"},    {"toVersion", "v1.9.16"},
          {"success", false},      {"errorCategory", "network"}, {"durationMs", 1532}};
}
json crash() {
  return {{"eventType", "crash"},
          {"errorType", "startup"},
          {"errorCategory", "MODULE_NOT_FOUND"},
          {"errorMessage", "Cannot find module '/home/bob/app/x.js'"},
          {"component", "PortfolioManager"},
          {"recovered", false}};
}
json error_event() {
  return {{"eventType", "error"}, {"errorCategory", "EACCES"}, {"component", "GitHubAuth"}};
}
json platform() {
  return {{"os", "linux"},
          {"osVersion", "Ubuntu 22.04.3"},
          {"arch", "x64"},
          {"nodeVersion", "20.10.1"},
          {"mcpClient", "claude-code"},
          {"mcpClientVersion", "1.2.3"}};
}
json stamped(json event) {
  event["timestamp"] = "2025-01-13T09:30:00.123Z";
  event["installId"] = "550e8400-e29b-41d4-a716-446655440000";
  event["version"] = "1.9.16";
  event["platform"] = platform();
  return event;
}
json weekly() {
  return stamped({{"eventType", "weekly_summary"},
                  {"weekStart", "2025-01-13"},
                  {"activeDays", 5},
                  {"sessionCount", 12},
                  {"features",
                   {{"personasUsed", 3},
                    {"skillsUsed", 1},
                    {"templatesUsed", 0},
                    {"agentsUsed", 2},
                    {"memoriesUsed", 7},
                    {"portfolioSyncs", 1},
                    {"collectionBrowses", 4}}},
                  {"performance", {{"avgStartupTime", 812.5}, {"avgResponseTime", 43}}},
                  {"health", {{"crashCount", 0}, {"errorCount", 2}}}});
}

void expect_rejected(const Outcome& o, const std::string& path, const std::string& expected,
                     const std::string& code = "invalid_event") {
  ASSERT_FALSE(o.ok) << o.event.dump();
  EXPECT_EQ(to_string(o.rejection.code), code);
  EXPECT_EQ(o.rejection.path, path);
  EXPECT_EQ(o.rejection.expected, expected);
  EXPECT_FALSE(o.rejection.message.empty());
}

TEST(AppEvents, ValidEventsOfEveryAppTypePass) {
  for (const json& e : {installation(), update(), crash(), error_event()}) {
    const Outcome o = process_app_event(e, scrubber());
    ASSERT_TRUE(o.ok) << e.dump() << " -> " << o.rejection.path << " " << o.rejection.message;
    EXPECT_EQ(o.dropped_fields, 0u);
    EXPECT_EQ(o.event["eventType"], e["eventType"]);
  }
}

TEST(AppEvents, FreeTextIsScrubbed) {
  const Outcome o = process_app_event(crash(), scrubber());
  ASSERT_TRUE(o.ok);
  EXPECT_EQ(o.event["errorMessage"], "Cannot find module '/home/<user>/app/x.js'");
  json e = error_event();
  e["component"] = "Sync for alice.liddell";
  e["errorCategory"] = "E_USER_alice.liddell";
  const Outcome scrubbed = process_app_event(e, scrubber());
  ASSERT_TRUE(scrubbed.ok);
  EXPECT_EQ(scrubbed.event["component"], "Sync for <user>");
  EXPECT_EQ(scrubbed.event["errorCategory"], "E_USER_<user>");
}

TEST(AppEvents, EveryWrongEnumRejectsWithTheChoices) {
  struct Case {
    json event;
    const char* field;
    const char* expected;
  };
  const Case cases[] = {
      {installation(), "installMethod", "one of npm|npx|git-clone|docker|unknown"},
      {installation(), "installType", "one of new|upgrade|reinstall"},
      {update(), "errorCategory", "one of network|permissions|dependencies|corruption|unknown"},
      {crash(), "errorType", "one of startup|runtime|shutdown|unknown"},
  };
  for (auto c : cases) {
    c.event[c.field] = "sideways";
    expect_rejected(process_app_event(c.event, scrubber()), std::string("/") + c.field, c.expected);
  }
}

TEST(AppEvents, WrongTypesReject) {
  json e = update();
  e["success"] = "yes";
  expect_rejected(process_app_event(e, scrubber()), "/success", "true or false");
  e = update();
  e["durationMs"] = -1;
  expect_rejected(process_app_event(e, scrubber()), "/durationMs", "a non-negative integer");
  e["durationMs"] = 1.5;
  expect_rejected(process_app_event(e, scrubber()), "/durationMs", "a non-negative integer");
  e = crash();
  e["recovered"] = 0;
  expect_rejected(process_app_event(e, scrubber()), "/recovered", "true or false");
  e = crash();
  e["errorMessage"] = json::array({"a"});
  expect_rejected(process_app_event(e, scrubber()), "/errorMessage", "a string");
  e = installation();
  e["installMethod"] = 3;
  expect_rejected(process_app_event(e, scrubber()), "/installMethod",
                  "one of npm|npx|git-clone|docker|unknown");
}

TEST(AppEvents, MissingRequiredFieldsReject) {
  json e = crash();
  e.erase("recovered");
  EXPECT_EQ(process_app_event(e, scrubber()).rejection.path, "/recovered");
  e = error_event();
  e.erase("component");
  EXPECT_EQ(process_app_event(e, scrubber()).rejection.path, "/component");
  e = update();
  e.erase("durationMs");
  EXPECT_EQ(process_app_event(e, scrubber()).rejection.path, "/durationMs");
}

TEST(AppEvents, OptionalNullIsAbsent) {
  json e = installation();
  e["previousVersion"] = nullptr;
  const Outcome o = process_app_event(e, scrubber());
  ASSERT_TRUE(o.ok);
  EXPECT_FALSE(o.event.contains("previousVersion"));
}

TEST(AppEvents, UnknownFieldsAreDroppedAndCounted) {
  json e = crash();
  e["stackTrace"] = "at /home/bob/x.js:1:1";
  e["userEmail"] = "bob@example.com";
  const Outcome o = process_app_event(e, scrubber());
  ASSERT_TRUE(o.ok);
  EXPECT_EQ(o.dropped_fields, 2u);
  EXPECT_FALSE(o.event.contains("stackTrace"));
  EXPECT_FALSE(o.event.contains("userEmail"));
}

TEST(AppEvents, StampedFieldsFromAppsAreDropped) {
  const json e = stamped(installation());
  const Outcome o = process_app_event(e, scrubber());
  ASSERT_TRUE(o.ok);
  EXPECT_EQ(o.dropped_fields, 4u);
  for (const char* k : {"timestamp", "installId", "version", "platform"}) {
    EXPECT_FALSE(o.event.contains(k)) << k;
  }
}

TEST(AppEvents, WeeklySummaryFromAnAppIsRejected) {
  expect_rejected(process_app_event(weekly(), scrubber()), "/eventType",
                  "one of installation|update|crash|error");
}

TEST(AppEvents, UnknownOrMissingTypeIsRejected) {
  expect_rejected(process_app_event({{"eventType", "keystrokes"}}, scrubber()), "/eventType",
                  "one of installation|update|crash|error");
  expect_rejected(process_app_event({{"installMethod", "npm"}}, scrubber()), "/eventType",
                  "one of installation|update|crash|error");
  expect_rejected(process_app_event(json::array(), scrubber()), "", "a JSON object");
}

TEST(AppEvents, StringBounds) {
  json e = crash();
  // 1023 ASCII bytes then a 3-byte character: the cut must not split it.
  e["errorMessage"] = std::string(1023, 'a') + "\xE2\x82\xAC" + "tail";
  Outcome o = process_app_event(e, scrubber());
  ASSERT_TRUE(o.ok);
  EXPECT_EQ(o.event["errorMessage"].get<std::string>(), std::string(1023, 'a'));
  e = crash();
  e["component"] = std::string(kMaxShortTextLength + 1, 'c');
  expect_rejected(process_app_event(e, scrubber()), "/component",
                  "a non-empty string of at most 128 bytes");
  e["component"] = std::string(kMaxShortTextLength, 'c');
  EXPECT_TRUE(process_app_event(e, scrubber()).ok);
  e["component"] = "";
  EXPECT_FALSE(process_app_event(e, scrubber()).ok);
  e = crash();
  e["errorCategory"] = std::string(kMaxShortTextLength + 1, 'E');
  EXPECT_EQ(process_app_event(e, scrubber()).rejection.path, "/errorCategory");
  e = update();
  e["toVersion"] = "1." + std::string(kMaxVersionLength, '1');
  EXPECT_EQ(process_app_event(e, scrubber()).rejection.path, "/toVersion");
  for (const char* bad : {"latest", "1.2.3 on bob-pc", "1..2", "v", "1.2.3+build"}) {
    e["toVersion"] = bad;
    EXPECT_EQ(process_app_event(e, scrubber()).rejection.path, "/toVersion") << bad;
  }
  for (const char* good : {"1", "v2.0", "2.0.0-rc.1", "10.0.19045.2"}) {
    e["toVersion"] = good;
    EXPECT_TRUE(process_app_event(e, scrubber()).ok) << good;
  }
}

TEST(AppEvents, InvalidUtf8Rejects) {
  json e = crash();
  e["errorMessage"] = std::string("bad \xC3( byte");
  expect_rejected(process_app_event(e, scrubber()), "/errorMessage", "valid UTF-8");
}

TEST(AppEvents, ControlCharactersExceptTabAndNewlineAreDroppedFromFreeText) {
  json e = crash();
  e["errorMessage"] = "line one\r\n\tat x.js\0:1\x01\x07\x1b[31m red\x1f"s;
  e["component"] = "Portfolio\0Manager\x0b"s;
  e["errorCategory"] = "\x02MODULE_NOT_FOUND\x7f"s;
  const Outcome o = process_app_event(e, scrubber());
  ASSERT_TRUE(o.ok) << o.rejection.path << " " << o.rejection.message;
  EXPECT_EQ(o.event["errorMessage"], "line one\n\tat x.js:1[31m red");
  EXPECT_EQ(o.event["component"], "PortfolioManager");
  EXPECT_EQ(o.event["errorCategory"], "MODULE_NOT_FOUND\x7f") << "DEL is not a C0 character";
}

TEST(AppEvents, ControlCharactersCannotHidePersonalDataFromTheScrubber) {
  json e = crash();
  e["errorMessage"] = "mail alice\0@example.com from /home/bob\x01"s + "by/x.js";
  e["component"] = "Sync for alice\0.liddell"s;
  const Outcome o = process_app_event(e, scrubber());
  ASSERT_TRUE(o.ok) << o.rejection.path << " " << o.rejection.message;
  EXPECT_EQ(o.event["errorMessage"], "mail <email> from /home/<user>/x.js");
  EXPECT_EQ(o.event["component"], "Sync for <user>");
}

TEST(AppEvents, ShortTextOfOnlyControlCharactersIsEmptyAndRejected) {
  json e = crash();
  e["component"] = "\0\x01\r"s;
  expect_rejected(process_app_event(e, scrubber()), "/component",
                  "a non-empty string of at most 128 bytes");
}

TEST(StampedEvents, ControlCharactersAreDroppedFromFreeTextOnTheServerToo) {
  json e = stamped(crash());
  e["errorMessage"] = "boom\0 at\x1b[0m ghp_abc\0defghijklmnopqrstuvwxyz0123456789"s;
  const Outcome o = process_stamped_event(e, scrubber());
  ASSERT_TRUE(o.ok) << o.rejection.path << " " << o.rejection.message;
  EXPECT_EQ(o.event["errorMessage"], "boom at[0m <secret>");
}

TEST(AppEvents, PersonalDataLeftAfterCuttingRejects) {
  // Cutting at the bound turns the version "1.2.3.4-beta" into the address-like "1.2.3.4".
  json e = crash();
  e["errorMessage"] = std::string(kMaxMessageLength - 8, 'a') + " 1.2.3.4-beta";
  expect_rejected(process_app_event(e, scrubber()), "/errorMessage", "ipv4", "pii_detected");
}

TEST(StampedEvents, EveryTypeWithStampedFieldsPasses) {
  for (const json& e : {stamped(installation()), stamped(update()), stamped(crash()),
                        stamped(error_event()), weekly()}) {
    const Outcome o = process_stamped_event(e, scrubber());
    ASSERT_TRUE(o.ok) << e["eventType"] << " " << o.rejection.path << " " << o.rejection.message;
    EXPECT_EQ(o.dropped_fields, 0u);
    EXPECT_EQ(o.event["platform"]["osVersion"], "Ubuntu 22");
    EXPECT_EQ(o.event["platform"]["nodeVersion"], "20.10");
    EXPECT_EQ(o.event["platform"]["mcpClientVersion"], "1.2");
    EXPECT_EQ(o.event["version"], "1.9.16");
  }
}

TEST(StampedEvents, StampedFieldsAreValidated) {
  struct Case {
    const char* field;
    json value;
    const char* path;
  };
  const Case cases[] = {
      {"timestamp", "2025-01-13 09:30:00", "/timestamp"},
      {"timestamp", "2025-01-13T09:30:00+02:00", "/timestamp"},
      {"timestamp", "2025-02-30T09:30:00Z", "/timestamp"},
      {"installId", "not-a-uuid", "/installId"},
      {"installId", 42, "/installId"},
      {"version", "one", "/version"},
      {"platform", "linux", "/platform"},
  };
  for (const auto& c : cases) {
    json e = stamped(crash());
    e[c.field] = c.value;
    EXPECT_EQ(process_stamped_event(e, scrubber()).rejection.path, c.path) << c.field;
  }
  json e = stamped(crash());
  e.erase("installId");
  EXPECT_EQ(process_stamped_event(e, scrubber()).rejection.path, "/installId");
}

TEST(StampedEvents, PlatformEnumsAndShapes) {
  const struct {
    const char* field;
    const char* value;
    const char* expected;
  } cases[] = {
      {"os", "beos", "one of windows|macos|linux|unknown"},
      {"arch", "riscv", "one of x64|arm64|x86|unknown"},
      {"mcpClient", "cursor", "one of claude-desktop|claude-code|gemini|other|unknown"},
      {"osVersion", "Windows 11 Pro Build 22621.2428 on BOB-PC", nullptr},
      {"nodeVersion", "twenty", "a version like 20.10"},
  };
  for (const auto& c : cases) {
    json e = stamped(error_event());
    e["platform"][c.field] = c.value;
    const Outcome o = process_stamped_event(e, scrubber());
    ASSERT_FALSE(o.ok) << c.field;
    EXPECT_EQ(o.rejection.path, std::string("/platform/") + c.field);
    if (c.expected) {
      EXPECT_EQ(o.rejection.expected, c.expected);
    }
  }
  json e = stamped(error_event());
  e["platform"]["hostname"] = "bob-pc";
  const Outcome o = process_stamped_event(e, scrubber());
  ASSERT_TRUE(o.ok);
  EXPECT_EQ(o.dropped_fields, 1u);
  EXPECT_FALSE(o.event["platform"].contains("hostname"));
}

TEST(StampedEvents, WeeklySummaryRules) {
  EXPECT_TRUE(process_stamped_event(weekly(), scrubber()).ok);
  json e = weekly();
  e["activeDays"] = 8;
  expect_rejected(process_stamped_event(e, scrubber()), "/activeDays", "an integer from 0 to 7");
  e = weekly();
  e["weekStart"] = "2025-01-14";  // a Tuesday
  EXPECT_EQ(process_stamped_event(e, scrubber()).rejection.path, "/weekStart");
  e["weekStart"] = "2025-01-12T23:00:00Z";  // Monday 00:00 in UTC+1
  EXPECT_TRUE(process_stamped_event(e, scrubber()).ok);
  e = weekly();
  e["features"]["skillsUsed"] = -2;
  EXPECT_EQ(process_stamped_event(e, scrubber()).rejection.path, "/features/skillsUsed");
  e = weekly();
  e["performance"]["avgResponseTime"] = -0.5;
  EXPECT_EQ(process_stamped_event(e, scrubber()).rejection.path, "/performance/avgResponseTime");
  e = weekly();
  e["health"]["crashCount"] = "none";
  EXPECT_EQ(process_stamped_event(e, scrubber()).rejection.path, "/health/crashCount");
  e = weekly();
  e["features"]["commandsRun"] = 99;
  e["sessionLog"] = "x";
  const Outcome o = process_stamped_event(e, scrubber());
  ASSERT_TRUE(o.ok);
  EXPECT_EQ(o.dropped_fields, 2u);
  e = weekly();
  e.erase("health");
  EXPECT_EQ(process_stamped_event(e, scrubber()).rejection.path, "/health");
}

}  // namespace
}  // namespace dollhouse::privacy
