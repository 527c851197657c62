// The Windows helpers of common/win32.hpp that the programs' main() functions use.
#include <gtest/gtest.h>

#include <cstring>

#include "common/win32.hpp"

namespace dollhouse::win32 {
namespace {

// `dollhouse-telemetryd --service --home X` hands the daemon's parser `--home X` alone: argc
// shrinks with the erase, and argv stays null-terminated right after the last argument.
TEST(Utf8Argv, EraseDropsOneArgumentAndArgcFollows) {
  Utf8Argv args("program");
  const int before = args.argc();
  ASSERT_GE(before, 1);
  if (before < 2) GTEST_SKIP() << "run without arguments: nothing to erase";
  const std::string second = before > 2 ? args.argv()[2] : "";
  args.erase(1);
  EXPECT_EQ(args.argc(), before - 1);
  EXPECT_EQ(args.argv()[args.argc()], nullptr);
  for (int i = 0; i < args.argc(); ++i) EXPECT_NE(args.argv()[i], nullptr) << i;
  if (before > 2) {
    EXPECT_STREQ(args.argv()[1], second.c_str());
  }
  args.erase(0);  // the program name stays
  EXPECT_EQ(args.argc(), before - 1);
}

}  // namespace
}  // namespace dollhouse::win32
