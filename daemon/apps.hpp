// The apps this daemon serves, as far as it knows them: those seen saying hello since it started
// (name, version, what they sent) and what each reported about its installation or update before
// the user answered.
//
// Held in memory only. Nothing here reaches the disk before consent: a report of an
// installation that arrives before the user answered waits here, and is stored (once, as an
// event) only if the user says yes; a no forgets it. An app restates these facts at every hello
// until the hello reply says they were counted or will never be (clientlib does), so a daemon
// restarted before the answer loses nothing.
//
// I/O thread only.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "daemon/connection.hpp"
#include "privacy/vocabulary.hpp"

namespace dollhouse::daemon {

// How many apps the daemon remembers, and how many setup reports per app it holds while the
// user has not answered; beyond these a new app is still served, but not listed or held.
inline constexpr std::size_t kMaxKnownApps = 64;
inline constexpr std::size_t kMaxSetupReportsPerApp = 4;

using privacy::is_app_name;

// An installation or update an app reported at hello (validated and scrubbed, not stamped).
struct SetupReport {
  std::string key;  // "installation", or "update <toVersion>"
  nlohmann::json event;
  AppInfo app;
  SystemTime reported_at{};
};

// The key that makes a setup report count once: "installation" or "update <toVersion>".
std::string setup_key(const nlohmann::json& event);

struct SeenApp {
  std::string version;     // from the latest hello
  std::string first_seen;  // ISO 8601, this daemon run
  std::string last_seen;
  std::int64_t hellos = 0;
  std::int64_t accepted = 0;  // events and usage messages stored, this run
  std::int64_t dropped = 0;   // not kept, any reason, this run
};

class AppRegistry {
 public:
  // An app said hello.
  void saw(const AppInfo& app, SystemTime now);
  void count_accepted(const std::string& app);
  void count_dropped(const std::string& app);
  const std::map<std::string, SeenApp>& seen() const { return seen_; }

  // Holds `report` until the user answers. False when it cannot be held (too many).
  bool hold(SetupReport report);
  // Everything held, and forgets it (the user answered).
  std::vector<SetupReport> take_held();
  // What is held for `app` only, and forgets it (that app was switched on).
  std::vector<SetupReport> take_held(const std::string& app);
  void forget_held() { held_.clear(); }
  std::size_t held_count() const;

 private:
  std::map<std::string, SeenApp> seen_;
  std::map<std::string, std::vector<SetupReport>> held_;
};

}  // namespace dollhouse::daemon
