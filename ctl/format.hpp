// Human input and output of dollhousectl: relative times, times as people type them, aligned
// "label: value" rows, and text that can be pasted into a shell. Pure functions; safe from any
// thread.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.hpp"

namespace dollhouse::ctl {

// "just now", "5 minutes ago", "3 days ago", "in less than a minute", "in 2 hours"; the input text
// when unparsable. Under 45 seconds in the past is "just now"; in the future it is "in less than
// a minute" (a clock that runs ahead is worth seeing).
std::string relative_time(const std::string& iso8601, SystemTime now);

// A time as a user types it for --since:
//   2026-12-01                      a date: midnight UTC at its start
//   2026-12-01T10:00:00Z            UTC (fractional seconds allowed; seconds may be left out)
//   2026-12-01T10:00:00+01:00       with an offset (also -05:30, +0100); converted to UTC
// "t", "z" and a space for "T" are accepted too. A time without a zone is refused, since it would
// be read differently on different machines; so are dates that do not exist and years outside
// kMinIsoYear..kMaxIsoYear (after conversion). false leaves `out` unchanged.
bool parse_user_time(const std::string& text, SystemTime& out);

// `text` as one shell word: unchanged when it holds only [A-Za-z0-9_/.:-], else in single quotes
// (a single quote inside written as '\''). An empty text is ''.
std::string shell_quote(const std::string& text);

// The end of a program's output for a message: trailing white space removed, at most `max_lines`
// lines and about `max_bytes` bytes (cut at a line start where possible). When something was left
// out, the result starts with "(earlier output left out)" on a line of its own.
std::string output_tail(const std::string& text, std::size_t max_lines, std::size_t max_bytes);

// Rows as "label  value", labels padded to the widest; multi-line values are indented.
std::string aligned_rows(const std::vector<std::pair<std::string, std::string>>& rows);

}  // namespace dollhouse::ctl
