// Internal to the privacy engine: recognisers for the shapes of non-free-text fields (versions,
// timestamps, dates) and cutting UTF-8 text to a length. UTF-8 validation and the UUID check are
// common to every program (common/utf8.hpp, common/clock.hpp). Pure functions, safe from any
// thread.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace dollhouse::privacy::detail {

// The longest prefix of `text` of at most `max_bytes` bytes that ends on a character boundary.
std::string_view cut_utf8(std::string_view text, std::size_t max_bytes);

// digits and dots, optional leading 'v', optional "-prerelease" of [0-9A-Za-z.-]:
// "1.9.16", "v20.10.0", "2.0.0-beta.1". At most kMaxVersionLength bytes.
bool is_version(std::string_view text);

// "2025-01-13T09:30:00Z" or with a fraction "2025-01-13T09:30:00.123Z"; UTC only.
bool is_utc_timestamp(std::string_view text);

// "2025-01-13": a valid calendar date. Sets *monday when it is a Monday.
bool is_calendar_date(std::string_view text, bool* monday);

// "Ubuntu 22.04.3" -> "Ubuntu 22", "macOS 14" -> "macOS 14", "Windows 11" -> "Windows 11",
// "unknown" -> "unknown". nullopt for anything else (builds, editions, host names).
std::optional<std::string> minimize_os_version(std::string_view text);

}  // namespace dollhouse::privacy::detail
