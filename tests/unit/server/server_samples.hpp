// Sample events and batches for the server's tests, shaped exactly as the daemon uploads them.
// Pure builders; safe from any thread.
#pragma once

#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

namespace dollhouse::server::samples {

using nlohmann::json;

// A valid, deterministic UUID: uuid(7) == "00000000-0000-4000-8000-000000000007".
inline std::string uuid(long n) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012ld", n % 1000000000000L);
  return buf;
}

// The app the samples come from, as the daemon stamps it from the app's hello.
inline constexpr const char* kSampleApp = "dollhousemcp";

inline json stamp(json event, const std::string& install_id, const std::string& os = "linux",
                  const std::string& version = "1.9.16",
                  const std::string& timestamp = "2025-01-13T09:30:00Z",
                  const std::string& app = kSampleApp) {
  event["timestamp"] = timestamp;
  event["installId"] = install_id;
  event["app"] = app;
  event["version"] = version;
  event["platform"] = {{"os", os},
                       {"osVersion", os == "windows" ? "Windows 11" : "Ubuntu 22"},
                       {"arch", "x64"},
                       {"nodeVersion", "20.10"},
                       {"mcpClient", "claude-code"}};
  return event;
}

inline json installation(const std::string& method = "npm", const std::string& type = "new") {
  return {{"eventType", "installation"}, {"installMethod", method}, {"installType", type}};
}

inline json update(bool success) {
  json e = {{"eventType", "update"},
            {"fromVersion", "1.9.15"},
            {"toVersion", "1.9.16"},
            {"success", success},
            {"durationMs", 1500}};
  if (!success) e["errorCategory"] = "network";
  return e;
}

inline json crash(const std::string& category = "MODULE_NOT_FOUND",
                  const std::string& component = "MCPServer") {
  return {{"eventType", "crash"},      {"errorType", "startup"},
          {"errorCategory", category}, {"errorMessage", "Cannot find module"},
          {"component", component},    {"recovered", false}};
}

inline json error_event(const std::string& category = "EACCES",
                        const std::string& component = "PortfolioManager") {
  return {{"eventType", "error"}, {"errorCategory", category}, {"component", component}};
}

inline json weekly(int personas = 3, double startup = 800) {
  return {{"eventType", "weekly_summary"},
          {"weekStart", "2025-01-06"},
          {"activeDays", 5},
          {"sessionCount", 12},
          {"features", {{"personasUsed", personas}, {"skillsUsed", 1}, {"memoriesUsed", 7}}},
          {"performance", {{"avgStartupTime", startup}, {"avgResponseTime", 40}}},
          {"health", {{"crashCount", 0}, {"errorCount", 2}}}};
}

// A crash whose message still holds an address after the engine cuts it to its bound: the
// privacy engine rejects it with pii_detected.
inline json crash_with_pii() {
  json e = crash();
  e["errorMessage"] = std::string(1024 - 8, 'a') + " 1.2.3.4-beta";
  return e;
}

inline json batch(const std::string& install_id, const std::string& batch_id, json events) {
  return {{"installId", install_id}, {"batchId", batch_id}, {"events", std::move(events)}};
}

}  // namespace dollhouse::server::samples
