// Inflating gzip request bodies with a hard bound on the inflated size, so a small compressed
// body cannot expand into gigabytes (a "zip bomb"). Pure; safe from any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.hpp"

namespace dollhouse::server {

// Status codes of inflate_gzip's errors.
inline constexpr const char* kInflateTooLarge = "too_large";
inline constexpr const char* kInflateBadEncoding = "bad_encoding";

// The inflated bytes of a gzip stream (one member). Errors: kInflateTooLarge when the output
// would exceed max_output bytes, kInflateBadEncoding when the input is not a complete gzip
// stream.
Result<std::string> inflate_gzip(std::string_view compressed, std::size_t max_output);

// The opposite, for tests and tools.
std::string deflate_gzip(std::string_view plain);

}  // namespace dollhouse::server
