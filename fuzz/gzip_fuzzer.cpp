// The server's gzip inflation (server/http/gzip.hpp) over arbitrary bytes, with its size bound.
//
// The input is the compressed body; its last bytes also choose a second, small bound. Checked,
// for the server's own bound (Limits::max_body_bytes) and the small one:
// - the output is never larger than the bound, and every error is too_large or bad_encoding;
// - the bound is exact: a body that inflates to n bytes is accepted with a bound of n (with the
//   same bytes) and refused as too_large with n - 1;
// - what was inflated, deflated again, inflates back to the same bytes.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_checks.hpp"
#include "server/http/gzip.hpp"
#include "server/server_context.hpp"

namespace {

using dollhouse::fuzz::check;
namespace server = dollhouse::server;

// Largest of the small bounds; enough for the inflated seeds to hit and to miss it.
constexpr std::size_t kMaxSmallBound = 64 * 1024;

// Inflates under `bound` and checks what inflate_gzip promises; the output when it succeeded.
void inflate_within(std::string_view body, std::size_t bound) {
  auto inflated = server::inflate_gzip(body, bound);
  if (!inflated) {
    const std::string& code = inflated.status().code();
    check(code == server::kInflateTooLarge || code == server::kInflateBadEncoding,
          "inflate_gzip failed with an unknown code");
    return;
  }
  const std::string& out = *inflated;
  check(out.size() <= bound, "inflate_gzip returned more than its bound");

  auto exact = server::inflate_gzip(body, out.size());
  check(exact.is_ok() && *exact == out, "a body is refused at a bound of its inflated size");
  if (!out.empty()) {
    auto below = server::inflate_gzip(body, out.size() - 1);
    check(!below.is_ok() && below.status().code() == server::kInflateTooLarge,
          "a body is not refused as too_large one byte below its inflated size");
  }
  auto round_trip = server::inflate_gzip(server::deflate_gzip(out), out.size());
  check(round_trip.is_ok() && *round_trip == out, "deflated output does not inflate back");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider input(data, size);
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  inflate_within(body, server::Limits{}.max_body_bytes);
  inflate_within(body, input.ConsumeIntegralInRange<std::size_t>(0, kMaxSmallBound));
  return 0;
}
