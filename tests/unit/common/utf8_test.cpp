#include "common/utf8.hpp"

#include <gtest/gtest.h>

#include <string_view>

namespace dollhouse {
namespace {

TEST(IsValidUtf8, AcceptsAsciiAndWellFormedMultiByteSequences) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii"));
  EXPECT_TRUE(is_valid_utf8("\xC3\xA9"));          // é, 2 bytes
  EXPECT_TRUE(is_valid_utf8("\xE2\x82\xAC"));      // €, 3 bytes
  EXPECT_TRUE(is_valid_utf8("\xF0\x9F\x98\x80"));  // 😀, 4 bytes
  EXPECT_TRUE(is_valid_utf8("\xC2\x80"));          // U+0080, smallest 2-byte
  EXPECT_TRUE(is_valid_utf8("\xE0\xA0\x80"));      // U+0800, smallest 3-byte
  EXPECT_TRUE(is_valid_utf8("\xED\x9F\xBF"));      // U+D7FF, just below the surrogates
  EXPECT_TRUE(is_valid_utf8("\xEE\x80\x80"));      // U+E000, just above them
  EXPECT_TRUE(is_valid_utf8("\xF0\x90\x80\x80"));  // U+10000, smallest 4-byte
  EXPECT_TRUE(is_valid_utf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF, the last code point
  EXPECT_TRUE(is_valid_utf8(std::string_view("a\0b", 3)));
}

TEST(IsValidUtf8, RejectsOverlongEncodings) {
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));  // '/' in 2 bytes
  EXPECT_FALSE(is_valid_utf8("\xC1\xBF"));
  EXPECT_FALSE(is_valid_utf8("\xE0\x80\xAF"));      // '/' in 3 bytes
  EXPECT_FALSE(is_valid_utf8("\xE0\x9F\xBF"));      // U+07FF in 3 bytes
  EXPECT_FALSE(is_valid_utf8("\xF0\x80\x80\xAF"));  // '/' in 4 bytes
  EXPECT_FALSE(is_valid_utf8("\xF0\x8F\xBF\xBF"));  // U+FFFF in 4 bytes
}

TEST(IsValidUtf8, RejectsSurrogates) {
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));              // U+D800
  EXPECT_FALSE(is_valid_utf8("\xED\xBF\xBF"));              // U+DFFF
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\xBD\xED\xB8\x80"));  // CESU-8 style pair
}

TEST(IsValidUtf8, RejectsCodePointsPastU10FFFF) {
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(is_valid_utf8("\xF7\xBF\xBF\xBF"));
  EXPECT_FALSE(is_valid_utf8("\xF8\x88\x80\x80\x80"));  // 5-byte form
  EXPECT_FALSE(is_valid_utf8("\xFC\x84\x80\x80\x80\x80"));
  EXPECT_FALSE(is_valid_utf8("\xFE"));
  EXPECT_FALSE(is_valid_utf8("\xFF"));
}

TEST(IsValidUtf8, RejectsTruncatedSequencesAndStrayContinuationBytes) {
  EXPECT_FALSE(is_valid_utf8("\xC3"));
  EXPECT_FALSE(is_valid_utf8("\xE2\x82"));
  EXPECT_FALSE(is_valid_utf8("\xF0\x9F\x98"));
  EXPECT_FALSE(is_valid_utf8("ok\xF0\x9F"));
  EXPECT_FALSE(
      is_valid_utf8("\xE2\x82"
                    "A"));  // continuation replaced by ASCII
  EXPECT_FALSE(is_valid_utf8("\x80"));
  EXPECT_FALSE(
      is_valid_utf8("a\xBF"
                    "b"));
}

}  // namespace
}  // namespace dollhouse
