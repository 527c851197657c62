// Time and randomness, injected.
//
// Policies that depend on "now" (retention, weekly rollup, backoff, rate limits) take a Clock so
// tests can drive them with a fake one. Randomness that must be unpredictable (installId) comes
// from a RandomSource whose default reads the kernel CSPRNG. Both interfaces are thread-safe in
// their default implementations.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace dollhouse {

using SystemTime = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual SystemTime now() const = 0;
};

class SystemClock final : public Clock {
 public:
  SystemTime now() const override { return std::chrono::system_clock::now(); }
  static const SystemClock& instance();
};

class RandomSource {
 public:
  virtual ~RandomSource() = default;
  // Fills buf with n random bytes.
  virtual void fill(unsigned char* buf, std::size_t n) = 0;
};

// Reads getrandom(2) on POSIX, BCryptGenRandom on Windows; never falls back to a weak generator.
// Throws std::runtime_error when the system source is unavailable.
class SystemRandom final : public RandomSource {
 public:
  void fill(unsigned char* buf, std::size_t n) override;
};

// A random (version 4, RFC 9562) UUID in its lower-case 36-character form.
std::string make_uuid_v4(RandomSource& random);
// Whether `text` has the shape of a UUID: 8-4-4-4-12 hexadecimal digits, either case, any
// version (installId and batchId are checked with it in the daemon, the privacy engine and the
// server).
bool is_uuid(std::string_view text);

// "2026-11-29T13:44:06.123Z": UTC, millisecond precision.
std::string format_iso8601(SystemTime t);
// Parses the forms format_iso8601 writes, with or without fractional seconds. Years outside
// kMinIsoYear..kMaxIsoYear are refused: a SystemTime (nanoseconds since 1970 in 64 bits) cannot
// hold them, and such a date in an event or a query is a mistake anyway.
inline constexpr int kMinIsoYear = 1900;
inline constexpr int kMaxIsoYear = 2200;
bool parse_iso8601(const std::string& text, SystemTime& out);

std::int64_t to_unix_millis(SystemTime t);
SystemTime from_unix_millis(std::int64_t ms);

}  // namespace dollhouse
