#include "ipc/framing.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dollhouse::ipc {
namespace {

// Feeds bytes and collects every frame they complete, as a connection would.
std::vector<Frame> feed_all(LineFramer& framer, std::string_view bytes) {
  framer.feed(bytes);
  std::vector<Frame> out;
  while (auto f = framer.next()) out.push_back(std::move(*f));
  return out;
}

TEST(LineFramer, SplitsSeveralLinesDeliveredInOneFeed) {
  LineFramer framer(64);
  auto frames = feed_all(framer, "one\ntwo\nthree\n");
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].line, "one");
  EXPECT_EQ(frames[1].line, "two");
  EXPECT_EQ(frames[2].line, "three");
  for (const auto& f : frames) EXPECT_FALSE(f.oversize);
  EXPECT_EQ(framer.buffered(), 0u);
}

TEST(LineFramer, HoldsAnIncompleteTailUntilItsNewlineArrives) {
  LineFramer framer(64);
  auto frames = feed_all(framer, "first\nsec");
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].line, "first");
  EXPECT_EQ(framer.buffered(), 3u);
  frames = feed_all(framer, "ond\n");
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].line, "second");
  EXPECT_EQ(framer.buffered(), 0u);
}

TEST(LineFramer, ReassemblesALineDeliveredByteByByte) {
  LineFramer framer(64);
  const std::string line = R"({"v":1,"op":"hello","id":7})";
  for (char c : line) {
    EXPECT_TRUE(feed_all(framer, std::string(1, c)).empty());
  }
  auto frames = feed_all(framer, "\n");
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].line, line);
  EXPECT_FALSE(frames[0].oversize);
}

TEST(LineFramer, StripsTheCarriageReturnOfCrlf) {
  LineFramer framer(64);
  auto frames = feed_all(framer, "a\r\nb\r\n");
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].line, "a");
  EXPECT_EQ(frames[1].line, "b");
}

TEST(LineFramer, KeepsACarriageReturnThatIsNotAtTheEnd) {
  LineFramer framer(64);
  auto frames = feed_all(framer, "a\rb\n");
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].line, "a\rb");
}

TEST(LineFramer, ReportsEmptyLinesAsEmptyFrames) {
  LineFramer framer(64);
  auto frames = feed_all(framer, "\n\r\nx\n");
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].line, "");
  EXPECT_EQ(frames[1].line, "");
  EXPECT_EQ(frames[2].line, "x");
}

TEST(LineFramer, AcceptsALineOfExactlyTheLimit) {
  LineFramer framer(16);
  std::string line(16, 'a');
  auto frames = feed_all(framer, line + "\n");
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_FALSE(frames[0].oversize);
  EXPECT_EQ(frames[0].line, line);
}

TEST(LineFramer, AcceptsALineOfExactlyTheLimitArrivingInPieces) {
  LineFramer framer(16);
  std::string line(16, 'a');
  EXPECT_TRUE(feed_all(framer, line.substr(0, 10)).empty());
  EXPECT_TRUE(feed_all(framer, line.substr(10)).empty());
  auto frames = feed_all(framer, "\n");
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_FALSE(frames[0].oversize);
  EXPECT_EQ(frames[0].line, line);
}

TEST(LineFramer, AcceptsALineOfExactlyTheLimitWithCrlfSplitBetweenFeeds) {
  // The carriage return is not part of the line, so where the peer's writes happen to split
  // the CRLF must not decide whether the line is oversize.
  LineFramer framer(16);
  std::string line(16, 'a');
  EXPECT_TRUE(feed_all(framer, line + "\r").empty());
  auto frames = feed_all(framer, "\nnext\n");
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_FALSE(frames[0].oversize);
  EXPECT_EQ(frames[0].line, line);
  EXPECT_EQ(frames[1].line, "next");
}

TEST(LineFramer, ReportsALineOneByteOverTheLimitAsOversizeWithItsPrefix) {
  LineFramer framer(16);
  std::string line = std::string(16, 'a') + "b";
  auto frames = feed_all(framer, line + "\nok\n");
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_TRUE(frames[0].oversize);
  EXPECT_EQ(frames[0].line, std::string(16, 'a'));
  EXPECT_FALSE(frames[1].oversize);
  EXPECT_EQ(frames[1].line, "ok");
}

TEST(LineFramer, OversizeLineOverManyFeedsKeepsItsPrefixAndTheNextLineIntact) {
  const std::size_t limit = 32;
  LineFramer framer(limit);
  std::string prefix = R"({"id":42,"op":"track","pad":")";
  ASSERT_LT(prefix.size(), limit);
  std::string big = prefix + std::string(10 * limit, 'x') + "\"}";
  std::vector<Frame> frames;
  for (std::size_t i = 0; i < big.size(); i += 5) {
    auto got = feed_all(framer, std::string_view(big).substr(i, 5));
    frames.insert(frames.end(), got.begin(), got.end());
  }
  EXPECT_TRUE(frames.empty());
  auto got = feed_all(framer, "\n{\"id\":43}\n");
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE(got[0].oversize);
  EXPECT_EQ(got[0].line, big.substr(0, limit));
  EXPECT_FALSE(got[1].oversize);
  EXPECT_EQ(got[1].line, R"({"id":43})");
}

TEST(LineFramer, BufferStaysBoundedWhileSkippingAHugeLine) {
  const std::size_t limit = 64;
  const std::size_t chunk = 1000;
  LineFramer framer(limit);
  std::size_t most = 0;
  for (int i = 0; i < 1000; ++i) {  // a 1 MB line
    EXPECT_TRUE(feed_all(framer, std::string(chunk, 'z')).empty());
    most = std::max(most, framer.buffered());
  }
  EXPECT_LE(most, limit + chunk);
  EXPECT_EQ(framer.buffered(), 0u);
  auto frames = feed_all(framer, "tail\nafter\n");
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_TRUE(frames[0].oversize);
  EXPECT_EQ(frames[0].line, std::string(limit, 'z'));
  EXPECT_EQ(frames[1].line, "after");
  EXPECT_FALSE(frames[1].oversize);
}

TEST(LineFramer, TwoOversizeLinesInARowAreReportedSeparately) {
  LineFramer framer(4);
  auto frames = feed_all(framer, "aaaaaaa\nbbbbbbbbb\ncc\n");
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_TRUE(frames[0].oversize);
  EXPECT_EQ(frames[0].line, "aaaa");
  EXPECT_TRUE(frames[1].oversize);
  EXPECT_EQ(frames[1].line, "bbbb");
  EXPECT_FALSE(frames[2].oversize);
  EXPECT_EQ(frames[2].line, "cc");
}

TEST(LineFramer, NextWithoutDataReturnsNothing) {
  LineFramer framer(8);
  EXPECT_FALSE(framer.next().has_value());
  EXPECT_EQ(framer.buffered(), 0u);
}

}  // namespace
}  // namespace dollhouse::ipc
