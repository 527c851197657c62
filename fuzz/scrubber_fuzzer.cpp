// The scrubber of the privacy engine (privacy/scrubber.cpp and its detector passes) over
// arbitrary text.
//
// Checked, for every input, against what privacy/scrub_internal.hpp promises (placeholders never
// match a pass):
// - scrubbing is idempotent, and no detector fires on scrubbed text;
// - text in which no detector fires is left exactly as it was;
// - scrubbing valid UTF-8 gives valid UTF-8 (placeholders never split a character).
// The run's -timeout catches a pass that is not linear in the text.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/utf8.hpp"
#include "fuzz/fuzz_checks.hpp"
#include "privacy/privacy.hpp"

namespace {

using dollhouse::fuzz::check;
namespace privacy = dollhouse::privacy;

const privacy::Scrubber& scrubber() {
  static const privacy::Scrubber kScrubber(dollhouse::fuzz::fixed_identity());
  return kScrubber;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::string scrubbed = scrubber().scrub(text);

  check(scrubber().scrub(scrubbed) == scrubbed, "scrubbing scrubbed text changes it");
  check(scrubber().detect(scrubbed).empty(), "a detector fires on scrubbed text");
  if (scrubber().detect(text).empty()) {
    check(scrubbed == text, "text in which no detector fires was changed");
  }
  if (dollhouse::is_valid_utf8(text)) {
    check(dollhouse::is_valid_utf8(scrubbed), "scrubbing valid UTF-8 gave invalid UTF-8");
  }
  return 0;
}
