// gzip bodies: round trips, the inflated-size bound, corrupt input.
#include "daemon/upload/gzip.hpp"

#include <gtest/gtest.h>

namespace dollhouse::daemon {
namespace {

TEST(Gzip, RoundTripsAndShrinksRepetitiveJson) {
  std::string body;
  for (int i = 0; i < 500; ++i) body += R"({"eventType":"crash","component":"MCPServer"},)";
  auto packed = gzip_compress(body);
  ASSERT_TRUE(packed);
  EXPECT_LT(packed->size(), body.size() / 5);
  EXPECT_EQ(static_cast<unsigned char>((*packed)[0]), 0x1f) << "gzip magic";
  EXPECT_EQ(static_cast<unsigned char>((*packed)[1]), 0x8b);
  auto unpacked = gzip_decompress(*packed, body.size());
  ASSERT_TRUE(unpacked);
  EXPECT_EQ(*unpacked, body);
}

TEST(Gzip, DecompressionStopsAtTheBound) {
  std::string zeros(1 << 20, '\0');
  auto packed = gzip_compress(zeros);
  ASSERT_TRUE(packed);
  EXPECT_FALSE(gzip_decompress(*packed, 1000)) << "a gzip bomb is refused";
  EXPECT_TRUE(gzip_decompress(*packed, zeros.size()));
}

TEST(Gzip, CorruptOrTruncatedInputIsRefused) {
  auto packed = gzip_compress("hello, telemetry");
  ASSERT_TRUE(packed);
  EXPECT_FALSE(gzip_decompress(packed->substr(0, packed->size() / 2), 1000));
  EXPECT_FALSE(gzip_decompress("not gzip at all", 1000));
  EXPECT_TRUE(gzip_compress(""));
}

}  // namespace
}  // namespace dollhouse::daemon
