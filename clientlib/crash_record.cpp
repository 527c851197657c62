#include "clientlib/crash_record.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace dollhouse::telemetry::detail {
namespace {

using nlohmann::json;

// The longest time the handler writes: 20 digits.
constexpr std::size_t kMaxTimeDigits = 20;

std::string quoted(const std::string& text) {
  return json(text).dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string tail(CrashKind kind, const char* error_type, const std::string& component) {
  const std::string category(crash_category(kind));
  const std::string message =
      kind == CrashKind::kTerminate ? "std::terminate called" : "fatal signal " + category;
  return R"(,"event":{"eventType":"crash","errorType":")" + std::string(error_type) +
         R"(","errorCategory":)" + quoted(category) + R"(,"errorMessage":)" + quoted(message) +
         R"(,"component":)" + quoted(component) + R"(,"recovered":false}})";
}

}  // namespace

std::string_view crash_category(CrashKind kind) {
  switch (kind) {
    case CrashKind::kSegv:
      return "SIGSEGV";
    case CrashKind::kBus:
      return "SIGBUS";
    case CrashKind::kFpe:
      return "SIGFPE";
    case CrashKind::kIll:
      return "SIGILL";
    case CrashKind::kAbort:
      return "SIGABRT";
    case CrashKind::kTerminate:
      return "std::terminate";
  }
  return "unknown";
}

std::optional<CrashRecordText> prepare_crash_record(const CrashRecordFacts& facts) {
  CrashRecordText text;
  text.head = R"({"v":)" + std::to_string(kCrashRecordVersion) + R"(,"app":)" + quoted(facts.app) +
              R"(,"appVersion":)" + quoted(facts.app_version);
  if (!facts.mcp_client.empty()) text.head += R"(,"mcpClient":)" + quoted(facts.mcp_client);
  if (!facts.node_version.empty()) text.head += R"(,"nodeVersion":)" + quoted(facts.node_version);
  text.head += R"(,"time":)";
  const std::string component = facts.component.empty() ? "native" : facts.component;
  std::size_t longest_tail = 0;
  for (std::size_t i = 0; i < kCrashKindCount; ++i) {
    const auto kind = static_cast<CrashKind>(i);
    text.startup_tail[i] = tail(kind, "startup", component);
    text.runtime_tail[i] = tail(kind, "runtime", component);
    longest_tail =
        std::max({longest_tail, text.startup_tail[i].size(), text.runtime_tail[i].size()});
  }
  if (text.head.size() + kMaxTimeDigits + longest_tail > kMaxCrashRecordBytes) return std::nullopt;
  text.file_prefix = crash_file_app_part(facts.app) + "-";
  return text;
}

std::string crash_file_app_part(std::string_view app) {
  std::string out(app);
  for (char& c : out) {
    const bool keep =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
    if (!keep) c = '_';
  }
  return out;
}

std::size_t format_decimal(std::uint64_t value, char* out) noexcept {
  char reversed[kMaxTimeDigits];
  std::size_t n = 0;
  do {
    reversed[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0 && n < kMaxTimeDigits);
  for (std::size_t i = 0; i < n; ++i) out[i] = reversed[n - 1 - i];
  return n;
}

}  // namespace dollhouse::telemetry::detail
