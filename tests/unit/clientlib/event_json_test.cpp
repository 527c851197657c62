#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "clientlib/backoff.hpp"
#include "clientlib/event_json.hpp"

namespace dollhouse::telemetry::detail {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

json parse_line(const std::string& line) {
  EXPECT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "a protocol line holds exactly one newline";
  return json::parse(line);
}

TEST(EventJson, InstallationUsesSeedNamesAndOmitsEmptyPreviousVersion) {
  InstallationEvent event{"npm", "new", ""};
  json out = installation_event(event);
  EXPECT_EQ(
      out, (json{{"eventType", "installation"}, {"installMethod", "npm"}, {"installType", "new"}}));
  event.install_type = "upgrade";
  event.previous_version = "1.9.15";
  EXPECT_EQ(installation_event(event)["previousVersion"], "1.9.15");
}

TEST(EventJson, UpdateCarriesSuccessDurationAndOptionalCategory) {
  UpdateEvent event{"1.9.15", "1.9.16", true, "", 4200};
  json out = update_event(event);
  EXPECT_EQ(out, (json{{"eventType", "update"},
                       {"fromVersion", "1.9.15"},
                       {"toVersion", "1.9.16"},
                       {"success", true},
                       {"durationMs", 4200}}));
  event.success = false;
  event.error_category = "network";
  EXPECT_EQ(update_event(event)["errorCategory"], "network");
}

TEST(EventJson, FailureEventNamesItsType) {
  FailureEvent event{"startup", "EACCES", "permission denied", "PortfolioManager", false};
  json crash = failure_event("crash", event);
  EXPECT_EQ(crash, (json{{"eventType", "crash"},
                         {"errorType", "startup"},
                         {"errorCategory", "EACCES"},
                         {"errorMessage", "permission denied"},
                         {"component", "PortfolioManager"},
                         {"recovered", false}}));
  EXPECT_EQ(failure_event("error", event)["eventType"], "error");
}

TEST(EventJson, FailureLineIsTheTrackLineOfTheFailureEventByteForByte) {
  // Every byte class the writer treats apart: quotes, backslashes, each named escape, other
  // control characters, DEL, multi-byte UTF-8, and text that is not UTF-8 (the general path).
  const std::vector<std::string> texts = {
      "",
      "plain words",
      "say \"hi\" to C:\\Users\\x",
      std::string("nul\0and\x01\x1f\x7f", 10),
      "\b\f\n\r\t",
      "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
      "bad \xff byte",
      "cut \xc3",
      "</script>&<'>",
  };
  for (const std::string& text : texts) {
    for (bool recovered : {false, true}) {
      FailureEvent event{text, "E" + text, "m " + text, text + "Component", recovered};
      for (const char* type : {"crash", "error"}) {
        auto fast = failure_line(type, event);
        auto general = track_line(failure_event(type, event));
        ASSERT_TRUE(fast && general);
        EXPECT_EQ(*fast, *general)
            << "for " << json(text).dump(-1, ' ', true, json::error_handler_t::replace);
      }
    }
  }
  FailureEvent huge{"runtime", "E", std::string(70 * 1024, 'x'), "C", false};
  EXPECT_FALSE(failure_line("error", huge)) << "over the protocol's line limit, as track_line";
}

TEST(EventJson, TrackLineIsFireAndForgetWithoutId) {
  auto line = track_line(json{{"eventType", "crash"}});
  ASSERT_TRUE(line);
  json request = parse_line(*line);
  EXPECT_EQ(request, (json{{"v", 1}, {"op", "track"}, {"event", {{"eventType", "crash"}}}}));
}

TEST(EventJson, TrackLineReplacesInvalidUtf8InsteadOfFailing) {
  auto line = track_line(json{{"errorMessage", std::string("bad \xff byte")}});
  ASSERT_TRUE(line);
  EXPECT_NO_THROW(parse_line(*line));
}

TEST(EventJson, TrackLineRefusesLinesOverTheProtocolLimit) {
  std::string huge(70 * 1024, 'x');
  EXPECT_FALSE(track_line(json{{"errorMessage", huge}}));
}

TEST(EventJson, ParseEventObjectAcceptsOnlyObjects) {
  EXPECT_TRUE(parse_event_object(R"({"eventType":"error","errorType":"runtime"})"));
  EXPECT_TRUE(parse_event_object("{\n  \"eventType\": \"error\"\n}"));
  EXPECT_FALSE(parse_event_object("[1,2]"));
  EXPECT_FALSE(parse_event_object("\"text\""));
  EXPECT_FALSE(parse_event_object("{\"a\":"));
  EXPECT_FALSE(parse_event_object(""));
  EXPECT_FALSE(parse_event_object("{\"a\":\"\xc3\x28\"}"));
}

TEST(EventJson, ParseEventObjectRefusesNestingTheDaemonWouldReject) {
  // 15 levels plus the track envelope is 16: allowed. One more is not.
  // An object holding depth-1 nested arrays: {"a":[[...]]}.
  auto nested = [](std::size_t depth) {
    return "{\"a\":" + std::string(depth - 1, '[') + std::string(depth - 1, ']') + "}";
  };
  EXPECT_TRUE(parse_event_object(nested(15)));
  EXPECT_FALSE(parse_event_object(nested(16)));
}

TEST(EventJson, UsageLineKeepsCountersAndFiniteTimings) {
  Usage usage;
  usage.counters["personasUsed"] = 2;
  usage.timings_ms["startup"] = 812.5;
  usage.timings_ms["response"] = std::numeric_limits<double>::quiet_NaN();
  auto line = usage_line(usage);
  ASSERT_TRUE(line);
  EXPECT_EQ(parse_line(*line), (json{{"v", 1},
                                     {"op", "usage"},
                                     {"counters", {{"personasUsed", 2}}},
                                     {"timings", {{"startup", 812.5}}}}));
}

TEST(EventJson, EmptyUsageIsNotALine) {
  EXPECT_FALSE(usage_line(Usage{}));
  Usage only_bad;
  only_bad.timings_ms["startup"] = std::numeric_limits<double>::infinity();
  EXPECT_FALSE(usage_line(only_bad));
}

TEST(EventJson, HelloCarriesAppFieldsAndOnlyGivenOptionalOnes) {
  ClientOptions options;
  options.app = "dollhousemcp";
  options.app_version = "1.9.16";
  json hello = parse_line(hello_line(options, 7));
  EXPECT_EQ(hello, (json{{"v", 1},
                         {"op", "hello"},
                         {"id", 7},
                         {"app", "dollhousemcp"},
                         {"appVersion", "1.9.16"}}));
  options.node_version = "20.10.0";
  options.mcp_client = "claude-code";
  hello = parse_line(hello_line(options, 8));
  EXPECT_EQ(hello["nodeVersion"], "20.10.0");
  EXPECT_EQ(hello["mcpClient"], "claude-code");
}

TEST(EventJson, SyncLineHasItsId) {
  EXPECT_EQ(parse_line(sync_line(3)), (json{{"v", 1}, {"op", "sync"}, {"id", 3}}));
}

TEST(EventJson, ParseReplyReadsIdAndOk) {
  auto reply = parse_reply(R"({"id":4,"ok":true,"accepted":2,"dropped":0})");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->id, 4);
  EXPECT_TRUE(reply->ok);
  auto error = parse_reply(R"({"id":5,"ok":false,"error":{"code":"internal","message":"x"}})");
  ASSERT_TRUE(error);
  EXPECT_FALSE(error->ok);
  EXPECT_FALSE(parse_reply(R"({"id":"text","ok":true})"));
  EXPECT_FALSE(parse_reply("not json"));
}

TEST(ReconnectDelay, DoublesFromMinimumUpToMaximum) {
  const milliseconds min{100};
  const milliseconds max{1000};
  EXPECT_EQ(reconnect_delay(1, min, max, 1.0), milliseconds(100));
  EXPECT_EQ(reconnect_delay(2, min, max, 1.0), milliseconds(200));
  EXPECT_EQ(reconnect_delay(3, min, max, 1.0), milliseconds(400));
  EXPECT_EQ(reconnect_delay(5, min, max, 1.0), milliseconds(1000));
  EXPECT_EQ(reconnect_delay(60, min, max, 1.0), milliseconds(1000));
}

TEST(ReconnectDelay, JitterStaysBetweenHalfAndFullDelay) {
  const milliseconds min{100};
  const milliseconds max{1000};
  EXPECT_EQ(reconnect_delay(3, min, max, 0.0), milliseconds(200));
  EXPECT_EQ(reconnect_delay(3, min, max, 0.5), milliseconds(300));
  EXPECT_EQ(reconnect_delay(3, min, max, 7.0), milliseconds(400)) << "fraction is clamped";
}

TEST(ReconnectDelay, ToleratesNonsenseBounds) {
  EXPECT_GE(reconnect_delay(1, milliseconds(0), milliseconds(0), 1.0), milliseconds(0));
  EXPECT_EQ(reconnect_delay(2, milliseconds(100), milliseconds(10), 1.0), milliseconds(100));
}

}  // namespace
}  // namespace dollhouse::telemetry::detail
