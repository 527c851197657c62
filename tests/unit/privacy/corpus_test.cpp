// The scrubber against the corpus: every positive string is scrubbed to exactly its expected
// text (recall), and no negative string is changed (false positives).
#include <gtest/gtest.h>

#include <cstdio>

#include "tests/unit/privacy/fake_identity.hpp"

namespace dollhouse::privacy {
namespace {

using testing::read_corpus;

TEST(PrivacyCorpus, EveryPositiveIsScrubbedToItsExpectedText) {
  const Scrubber scrubber(testing::fake_identity());
  const auto lines = read_corpus("pii_positive.txt");
  ASSERT_GE(lines.size(), 300u) << "corpus missing or too small; DOLLHOUSE_SOURCE_DIR set?";
  std::size_t hits = 0;
  for (const auto& line : lines) {
    const std::string out = scrubber.scrub(line.input);
    const bool ok = line.has_expected ? out == line.expected
                                      : (out != line.input && scrubber.detect(out).empty());
    if (ok) {
      ++hits;
    } else {
      ADD_FAILURE() << "input:    " << line.input << "\nexpected: " << line.expected
                    << "\nactual:   " << out;
    }
    EXPECT_FALSE(scrubber.detect(line.input).empty()) << "no detector fires on: " << line.input;
    EXPECT_EQ(scrubber.detect(out), "") << "still fires after scrubbing: " << out;
  }
  const double recall = static_cast<double>(hits) / static_cast<double>(lines.size());
  std::printf("[corpus] positives: %zu, scrubbed as expected: %zu, recall: %.2f%%\n", lines.size(),
              hits, recall * 100.0);
  EXPECT_EQ(hits, lines.size());
}

TEST(PrivacyCorpus, NoNegativeIsChanged) {
  const Scrubber scrubber(testing::fake_identity());
  const auto lines = read_corpus("pii_negative.txt");
  ASSERT_GE(lines.size(), 150u) << "corpus missing or too small; DOLLHOUSE_SOURCE_DIR set?";
  std::size_t changed = 0;
  for (const auto& line : lines) {
    const std::string out = scrubber.scrub(line.input);
    if (out != line.input) {
      ++changed;
      ADD_FAILURE() << "changed: " << line.input << "\n     to: " << out;
    }
    EXPECT_EQ(scrubber.detect(line.input), "") << line.input;
  }
  const double rate = static_cast<double>(changed) / static_cast<double>(lines.size());
  std::printf("[corpus] negatives: %zu, changed: %zu, false-positive rate: %.2f%%\n", lines.size(),
              changed, rate * 100.0);
  EXPECT_EQ(changed, 0u);
}

TEST(PrivacyCorpus, ScrubbingIsIdempotent) {
  const Scrubber scrubber(testing::fake_identity());
  for (const auto& line : read_corpus("pii_positive.txt")) {
    const std::string once = scrubber.scrub(line.input);
    EXPECT_EQ(scrubber.scrub(once), once);
  }
}

}  // namespace
}  // namespace dollhouse::privacy
