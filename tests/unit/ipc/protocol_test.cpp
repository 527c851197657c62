#include "ipc/protocol.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "common/utf8.hpp"

namespace dollhouse::ipc {
namespace {

using nlohmann::json;

ParseResult parse(const std::string& line) {
  return parse_request(Frame{line, false});
}

// ---- json_nesting_depth ------------------------------------------------------------------------

TEST(JsonNestingDepth, CountsTheDeepestArrayOrObject) {
  EXPECT_EQ(json_nesting_depth("1"), 0);
  EXPECT_EQ(json_nesting_depth("{}"), 1);
  EXPECT_EQ(json_nesting_depth(R"({"a":[1,{"b":[]}],"c":{}})"), 4);
  EXPECT_EQ(json_nesting_depth("[[],[],[[]]]"), 3);
}

TEST(JsonNestingDepth, IgnoresBracketsInsideStrings) {
  EXPECT_EQ(json_nesting_depth(R"({"a":"[[[[{{{{"})"), 1);
  EXPECT_EQ(json_nesting_depth(R"(["]]]]", "{"])"), 1);
}

TEST(JsonNestingDepth, EscapedQuotesDoNotEndAString) {
  EXPECT_EQ(json_nesting_depth(R"({"a":"\"[[[[\""})"), 1);
  // An escaped backslash before the closing quote does end the string.
  EXPECT_EQ(json_nesting_depth(R"({"a":"\\",[["x"]]})"), 3);
}

TEST(JsonNestingDepth, ClosersWithNothingOpenDoNotHideLaterOpeners) {
  EXPECT_EQ(json_nesting_depth("]]]][[[["), 4);
  EXPECT_EQ(json_nesting_depth("}]}[{"), 2);
}

// ---- recover_id --------------------------------------------------------------------------------

TEST(RecoverId, FindsIntegerAndStringIdsInWellFormedObjects) {
  EXPECT_EQ(recover_id(R"({"v":1,"id":17,"op":"x"})"), json(17));
  EXPECT_EQ(recover_id(R"({"id":"abc"})"), json("abc"));
}

TEST(RecoverId, FindsTheIdOfATruncatedObject) {
  EXPECT_EQ(recover_id(R"({"id":5,"op":"track","event":{"a":"unterminat)"), json(5));
  EXPECT_EQ(recover_id(R"({"v":1,"id":"req-9","ev)"), json("req-9"));
}

TEST(RecoverId, FindsTheIdBeforeASyntaxError) {
  EXPECT_EQ(recover_id(R"({"id":8, oops})"), json(8));
}

TEST(RecoverId, IgnoresIdKeysOfNestedObjects) {
  EXPECT_EQ(recover_id(R"({"event":{"id":1},"id":2})"), json(2));
  EXPECT_EQ(recover_id(R"({"event":{"id":1}})"), json());
  EXPECT_EQ(recover_id(R"({"list":[{"id":1}]})"), json());
}

TEST(RecoverId, IgnoresTheStringValueIdOfAnotherKey) {
  EXPECT_EQ(recover_id(R"({"op":"id","v":1})"), json());
}

TEST(RecoverId, GivesNullForIntegersBeyondSixtyFourBits) {
  EXPECT_EQ(recover_id(R"({"id":9223372036854775807,)"), json(9223372036854775807LL));
  EXPECT_EQ(recover_id(R"({"id":9223372036854775808,)"), json());
  EXPECT_EQ(recover_id(R"({"id":18446744073709551616,)"), json());
  EXPECT_EQ(recover_id(R"({"id":1e400,)"), json());
}

// ---- recover_op --------------------------------------------------------------------------------

TEST(RecoverOp, FindsTheTopLevelOpWhereverTheLineBreaks) {
  EXPECT_EQ(recover_op(R"({"v":1,"op":"status","id":1})"), "status");
  EXPECT_EQ(recover_op(R"( { "id" : 1e400 , "op" : "sync" , "x": )"), "sync");
  EXPECT_EQ(recover_op("{\"s\":\"\xFF\",\"op\":\"flush\""), "flush");
  EXPECT_EQ(recover_op(R"({"a":{"op":"x"},"b":"\"op\"","op":"show"})"), "show");
  EXPECT_EQ(recover_op(R"({"op":"tr\u0061ck"})"), "track");
}

TEST(RecoverOp, GivesNothingWhenTheOpIsMissingCutOffOrNotAString) {
  EXPECT_EQ(recover_op(R"({"v":1,"id":1})"), std::nullopt);
  EXPECT_EQ(recover_op(R"({"v":1,"op":"sta)"), std::nullopt);
  EXPECT_EQ(recover_op(R"({"v":1,"op":5})"), std::nullopt);
  EXPECT_EQ(recover_op(R"({"v":1,"x":"op","y":1})"), std::nullopt);
  EXPECT_EQ(recover_op(R"({"a":{"op":"status"}})"), std::nullopt);
  EXPECT_EQ(recover_op(R"({"v":1},"op":"status")"), std::nullopt);
  EXPECT_EQ(recover_op(R"(["op","status"])"), std::nullopt);
  EXPECT_EQ(recover_op("{\"op\":\"\xFF\"}"), std::nullopt);
  EXPECT_EQ(recover_op(""), std::nullopt);
}

TEST(RecoverId, GivesNullWhenTheIdIsCutOffOrNotAnId) {
  EXPECT_EQ(recover_id(R"({"id":"abc)"), json());
  EXPECT_EQ(recover_id(R"({"v":1,"op")"), json());
  EXPECT_EQ(recover_id(R"({"id":{"n":1}})"), json());
  EXPECT_EQ(recover_id(R"({"id":[1]})"), json());
  EXPECT_EQ(recover_id(R"({"id":1.5})"), json());
  EXPECT_EQ(recover_id(R"({"id":true})"), json());
  EXPECT_EQ(recover_id("[1,2]"), json());
  EXPECT_EQ(recover_id("garbage"), json());
  EXPECT_EQ(recover_id(""), json());
  EXPECT_EQ(recover_id(R"({"id":")" + std::string(kMaxIdLength + 1, 'x') + R"("})"), json());
}

// ---- parse_request -----------------------------------------------------------------------------

TEST(ParseRequest, AcceptsAMinimalRequestAndKeepsTheBody) {
  auto r = parse(R"({"v":1,"op":"track","id":3,"event":{"eventType":"error"}})");
  ASSERT_TRUE(r.request.has_value()) << r.error.code;
  EXPECT_EQ(r.request->op, "track");
  EXPECT_EQ(r.request->id, json(3));
  EXPECT_EQ(r.request->body["event"]["eventType"], "error");
}

TEST(ParseRequest, IdIsOptionalAndNullWhenAbsent) {
  auto r = parse(R"({"v":1,"op":"flush"})");
  ASSERT_TRUE(r.request.has_value());
  EXPECT_TRUE(r.request->id.is_null());
}

TEST(ParseRequest, AcceptsAStringIdOfTheMaximumLength) {
  std::string id(kMaxIdLength, 'k');
  auto r = parse(R"({"v":1,"op":"x","id":")" + id + R"("})");
  ASSERT_TRUE(r.request.has_value());
  EXPECT_EQ(r.request->id, json(id));
}

TEST(ParseRequest, OversizeFrameIsLineTooLongWithTheRecoveredId) {
  auto r = parse_request(Frame{R"({"v":1,"id":99,"op":"track","event":{"x":"aaaa)", true});
  ASSERT_FALSE(r.request.has_value());
  EXPECT_EQ(r.error.code, ErrorCode::kLineTooLong);
  EXPECT_EQ(r.error.id, json(99));
}

TEST(ParseRequest, OversizeFrameCutInsideAMultiByteCharacterStillYieldsTheId) {
  // The framer cuts an oversize line at a byte count, which can fall inside a character.
  std::string line = R"({"v":1,"id":"r1","op":"track","event":{"x":")"
                     "\xC3";  // the first byte of "é"
  auto r = parse_request(Frame{line, true});
  EXPECT_EQ(r.error.code, ErrorCode::kLineTooLong);
  EXPECT_EQ(r.error.id, json("r1"));
}

TEST(ParseRequest, OversizeFrameWithInvalidUtf8RecoversNoId) {
  auto r = parse_request(Frame{"{\"id\":5,\"x\":\"\xFF\xFF\xFF\xFF", true});
  EXPECT_EQ(r.error.code, ErrorCode::kLineTooLong);
  EXPECT_TRUE(r.error.id.is_null());
}

TEST(ParseRequest, InvalidUtf8IsReportedBeforeJsonSyntax) {
  auto r = parse("{\"v\":1,\"op\":\"x\",\"id\":1,\"s\":\"\xC0\xAF\"}");
  ASSERT_FALSE(r.request.has_value());
  EXPECT_EQ(r.error.code, ErrorCode::kInvalidUtf8);
  EXPECT_EQ(r.error.id, json(1)) << "the id before the bad bytes is still answered";
}

std::string nested(int depth) {
  // {"v":1,"op":"x","id":4,"a": [[...]]}: the object itself is one level.
  std::string inner = std::string(static_cast<std::size_t>(depth - 1), '[') +
                      std::string(static_cast<std::size_t>(depth - 1), ']');
  return R"({"v":1,"op":"x","id":4,"a":)" + inner + "}";
}

TEST(ParseRequest, SixteenLevelsOfNestingAreAccepted) {
  ASSERT_EQ(json_nesting_depth(nested(kMaxNestingDepth)), kMaxNestingDepth);
  auto r = parse(nested(kMaxNestingDepth));
  EXPECT_TRUE(r.request.has_value()) << r.error.code;
}

TEST(ParseRequest, SeventeenLevelsAreTooDeepAndKeepTheId) {
  auto r = parse(nested(kMaxNestingDepth + 1));
  ASSERT_FALSE(r.request.has_value());
  EXPECT_EQ(r.error.code, ErrorCode::kTooDeep);
  EXPECT_EQ(r.error.id, json(4));
}

TEST(ParseRequest, InvalidJsonRecoversTheId) {
  auto r = parse(R"({"v":1,"id":"abc","op":"track",})");
  ASSERT_FALSE(r.request.has_value());
  EXPECT_EQ(r.error.code, ErrorCode::kInvalidJson);
  EXPECT_EQ(r.error.id, json("abc"));
}

TEST(ParseRequest, EmptyLineIsInvalidJson) {
  auto r = parse("");
  EXPECT_EQ(r.error.code, ErrorCode::kInvalidJson);
  EXPECT_TRUE(r.error.id.is_null());
}

TEST(ParseRequest, NonObjectJsonIsAnInvalidRequest) {
  for (const char* line : {"[1,2]", "42", "\"text\"", "null", "true"}) {
    auto r = parse(line);
    ASSERT_FALSE(r.request.has_value()) << line;
    EXPECT_EQ(r.error.code, ErrorCode::kInvalidRequest) << line;
    EXPECT_TRUE(r.error.id.is_null()) << line;
  }
}

TEST(ParseRequest, RejectsIdsThatAreNotIntegersOrShortStrings) {
  const std::string too_long(kMaxIdLength + 1, 'x');
  for (const std::string& id : {std::string("1.5"), std::string(R"({"n":1})"), std::string("[1]"),
                                std::string("true"), "\"" + too_long + "\""}) {
    auto r = parse(R"({"v":1,"op":"x","id":)" + id + "}");
    ASSERT_FALSE(r.request.has_value()) << id;
    EXPECT_EQ(r.error.code, ErrorCode::kInvalidRequest) << id;
    EXPECT_TRUE(r.error.id.is_null()) << id;
  }
}

TEST(ParseRequest, IntegerIdsMustFitInSixtyFourBitsAndAreKeptExactly) {
  auto largest = parse(R"({"v":1,"op":"x","id":9223372036854775807})");
  ASSERT_TRUE(largest.request.has_value());
  EXPECT_EQ(largest.request->id.get<std::int64_t>(), 9223372036854775807LL);
  auto smallest = parse(R"({"v":1,"op":"x","id":-9223372036854775808})");
  ASSERT_TRUE(smallest.request.has_value());
  EXPECT_EQ(smallest.request->id.dump(), "-9223372036854775808");
  for (const char* id : {"9223372036854775808", "18446744073709551615", "18446744073709551616",
                         "-9223372036854775809", "1e400", "-1e400"}) {
    auto r = parse(std::string(R"({"v":1,"op":"status","id":)") + id + "}");
    ASSERT_FALSE(r.request.has_value()) << id;
    EXPECT_EQ(r.error.code, ErrorCode::kInvalidRequest) << id;
    EXPECT_NE(r.error.message.find("id must be"), std::string::npos) << r.error.message;
    EXPECT_TRUE(r.error.id.is_null()) << id << ": " << r.error.id.dump();
  }
}

TEST(ParseRequest, ControlOpsWithAnUnusableIdAreAnsweredWithANullId) {
  const std::string too_long = "\"" + std::string(kMaxIdLength + 1, 'x') + "\"";
  for (const std::string& id :
       {std::string("1.5"), std::string("18446744073709551616"), std::string("1e400"), too_long,
        std::string("{}"), std::string("[]"), std::string("false")}) {
    for (const std::string& line :
         {R"({"v":1,"op":"status","id":)" + id + "}", R"({"v":1,"id":)" + id + R"(,"op":"sync"})",
          R"({"id":)" + id + R"(,"op":"frobnicate","v":1})"}) {
      auto r = parse(line);
      ASSERT_FALSE(r.request.has_value()) << line;
      EXPECT_EQ(r.error.code, ErrorCode::kInvalidRequest) << line;
      EXPECT_TRUE(r.error.id.is_null()) << line;
      EXPECT_TRUE(r.error.always_reply) << line;
    }
  }
}

TEST(ParseRequest, TrackAndUsageWithAnUnusableIdStayFireAndForget) {
  for (const std::string& line :
       {std::string(R"({"v":1,"op":"track","id":1.5,"event":{}})"),
        std::string(R"({"v":1,"id":1e400,"op":"track","event":{}})"),
        std::string(R"({"v":1,"op":"usage","id":{},"counters":{}})"),
        std::string(R"({"v":1,"op":"usage","id":18446744073709551616})")}) {
    auto r = parse(line);
    ASSERT_FALSE(r.request.has_value()) << line;
    EXPECT_TRUE(r.error.id.is_null()) << line;
    EXPECT_FALSE(r.error.always_reply) << line;
  }
}

TEST(ParseRequest, EnvelopeErrorsOfControlOpsAreAlwaysAnswered) {
  for (const char* line :
       {R"({"op":"status"})", R"({"v":2,"op":"flush"})", R"({"v":"1","op":"show"})", R"({"v":1})",
        R"({"v":1,"op":7})", "[1,2]", "42"}) {
    auto r = parse(line);
    ASSERT_FALSE(r.request.has_value()) << line;
    EXPECT_TRUE(r.error.always_reply) << line;
  }
  for (const char* line : {R"({"op":"track"})", R"({"v":2,"op":"usage"})"}) {
    auto r = parse(line);
    ASSERT_FALSE(r.request.has_value()) << line;
    EXPECT_FALSE(r.error.always_reply) << line;
  }
}

TEST(ParseRequest, BrokenLinesAreAnsweredWhenTheirOpIsReadableAndNotTrackOrUsage) {
  struct Case {
    std::string line;
    bool oversize;
    ErrorCode code;
    bool always_reply;
  };
  const std::vector<Case> cases = {
      {R"({"v":1,"op":"status",)", false, ErrorCode::kInvalidJson, true},
      {R"({"v":1,"x":1e400,"op":"status"})", false, ErrorCode::kInvalidJson, true},
      {"{\"v\":1,\"op\":\"export\",\"x\":\"\xFF\"}", false, ErrorCode::kInvalidUtf8, true},
      {R"({"v":1,"op":"show","a":)" + std::string(20, '[') + std::string(20, ']') + "}", false,
       ErrorCode::kTooDeep, true},
      {R"({"v":1,"op":"consent","x":"aaaa)", true, ErrorCode::kLineTooLong, true},
      {R"({"v":1,"op":"track",)", false, ErrorCode::kInvalidJson, false},
      {R"({"v":1,"op":"usage","x":"aaaa)", true, ErrorCode::kLineTooLong, false},
      {"not json at all", false, ErrorCode::kInvalidJson, false},
      {R"({"v":1,"event":{"op":"status"},)", false, ErrorCode::kInvalidJson, false},
      {R"({"v":1,"op":"sta)", false, ErrorCode::kInvalidJson, false},
  };
  for (const auto& tc : cases) {
    auto r = parse_request(Frame{tc.line, tc.oversize});
    ASSERT_FALSE(r.request.has_value()) << tc.line;
    EXPECT_EQ(r.error.code, tc.code) << tc.line;
    EXPECT_TRUE(r.error.id.is_null()) << tc.line;
    EXPECT_EQ(r.error.always_reply, tc.always_reply) << tc.line;
  }
}

TEST(ParseRequest, ExplicitNullIdIsTheSameAsNoId) {
  auto r = parse(R"({"v":1,"op":"x","id":null})");
  ASSERT_TRUE(r.request.has_value());
  EXPECT_TRUE(r.request->id.is_null());
}

TEST(ParseRequest, MissingVersionIsAnInvalidRequestWithTheId) {
  auto r = parse(R"({"op":"x","id":12})");
  ASSERT_FALSE(r.request.has_value());
  EXPECT_EQ(r.error.code, ErrorCode::kInvalidRequest);
  EXPECT_EQ(r.error.id, json(12));
}

TEST(ParseRequest, VersionThatIsNotANumberIsAMissingVersion) {
  for (const char* v : {"\"1\"", "null", "true", "[1]", "{}"}) {
    auto r = parse(std::string(R"({"op":"x","id":12,"v":)") + v + "}");
    ASSERT_FALSE(r.request.has_value()) << v;
    EXPECT_EQ(r.error.code, ErrorCode::kInvalidRequest) << v;
    EXPECT_NE(r.error.message.find("missing protocol version"), std::string::npos) << v;
    EXPECT_EQ(r.error.id, json(12)) << v;
  }
}

TEST(ParseRequest, AnyNumberEqualToOneIsVersionOne) {
  for (const char* v : {"1", "1.0", "1e0", "10e-1", "1.000"}) {
    auto r = parse(std::string(R"({"op":"x","id":12,"v":)") + v + "}");
    ASSERT_TRUE(r.request.has_value()) << v << ": " << r.error.message;
    EXPECT_EQ(r.request->op, "x");
  }
}

TEST(ParseRequest, OtherNumbersAreUnsupportedVersionsNamedInTheMessage) {
  for (const char* v : {"1.5", "2.0", "0", "-1", "0.999"}) {
    auto r = parse(std::string(R"({"op":"x","id":12,"v":)") + v + "}");
    ASSERT_FALSE(r.request.has_value()) << v;
    EXPECT_EQ(r.error.code, ErrorCode::kUnsupportedVersion) << v;
    EXPECT_NE(r.error.message.find(std::string("version ") + v + " "), std::string::npos)
        << r.error.message;
    EXPECT_EQ(r.error.id, json(12)) << v;
  }
}

TEST(ParseRequest, VersionTwoIsUnsupportedAndKeepsTheId) {
  auto r = parse(R"({"v":2,"op":"x","id":"q"})");
  ASSERT_FALSE(r.request.has_value());
  EXPECT_EQ(r.error.code, ErrorCode::kUnsupportedVersion);
  EXPECT_EQ(r.error.id, json("q"));
  EXPECT_NE(r.error.message.find('2'), std::string::npos) << r.error.message;
}

TEST(ParseRequest, MissingEmptyOrNonStringOpIsAnInvalidRequest) {
  for (const char* op : {"", R"(,"op":"")", R"(,"op":5)", R"(,"op":null)"}) {
    auto r = parse(std::string(R"({"v":1,"id":6)") + op + "}");
    ASSERT_FALSE(r.request.has_value()) << op;
    EXPECT_EQ(r.error.code, ErrorCode::kInvalidRequest) << op;
    EXPECT_EQ(r.error.id, json(6)) << op;
  }
}

// ---- replies -----------------------------------------------------------------------------------

TEST(OkReply, IsOneJsonLineWithIdOkAndTheFields) {
  std::string line = ok_reply(json(7), {{"queued", 3}});
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  json reply = json::parse(line);
  EXPECT_EQ(reply["id"], json(7));
  EXPECT_EQ(reply["ok"], json(true));
  EXPECT_EQ(reply["queued"], json(3));
}

TEST(OkReply, CarriesANullIdWhenTheRequestHadNone) {
  json reply = json::parse(ok_reply(json()));
  EXPECT_TRUE(reply.contains("id"));
  EXPECT_TRUE(reply["id"].is_null());
  EXPECT_EQ(reply["ok"], json(true));
}

TEST(ErrorReply, IsOneJsonLineWithCodeAndMessage) {
  std::string line = error_reply(json("req-1"), ErrorCode::kUnknownOp, "no such op\nreally");
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);  // newlines in the message are escaped
  json reply = json::parse(line);
  EXPECT_EQ(reply["id"], json("req-1"));
  EXPECT_EQ(reply["ok"], json(false));
  EXPECT_EQ(reply["error"]["code"], json(ErrorCode::kUnknownOp));
  EXPECT_EQ(reply["error"]["message"], json("no such op\nreally"));
}

TEST(ErrorReply, InvalidUtf8InTheMessageStillGivesValidJson) {
  std::string line = error_reply(json(1), ErrorCode::kInternal, "bad \xFF byte");
  EXPECT_TRUE(is_valid_utf8(line));
  json reply = json::parse(line, nullptr, false);
  EXPECT_FALSE(reply.is_discarded());
  EXPECT_EQ(reply["error"]["code"], json(ErrorCode::kInternal));
}

}  // namespace
}  // namespace dollhouse::ipc
