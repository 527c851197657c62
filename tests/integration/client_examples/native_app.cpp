#include <chrono>
#include <cstdio>

#include "dollhouse/telemetry.hpp"

namespace dt = dollhouse::telemetry;
using namespace std::chrono_literals;

int main() {
  dt::ClientOptions options;
  options.app = "example-native";
  options.app_version = "1.9.16";
  options.mcp_client = "claude-code";
  // This run is a fresh installation: sent with every hello until the daemon has counted it
  // (after the user's yes) or knows it never will.
  options.installation = dt::InstallationEvent{"npm", "new", ""};
  dt::Client telemetry(options);

  // Early, on the main thread: fatal signals and std::terminate become crash events.
  telemetry.install_crash_handler("server");

  // The first-run notice, only while the user has not answered.
  if (telemetry.refresh_consent(1s).answer == dt::ConsentAnswer::kNotAnswered) {
    std::fprintf(stderr,
                 "example-native can send anonymous usage statistics and crash reports.\n"
                 "Nothing is collected unless you agree: dollhousectl telemetry consent\n");
  }

  // Feature use, folded by the daemon into one weekly summary.
  dt::Usage usage;
  usage.counters["sessions"] = 1;
  usage.counters["personasUsed"] = 2;
  usage.timings_ms["startup"] = 640;
  telemetry.usage(usage);

  // An error the app recovered from.
  telemetry.track_error(
      {"runtime", "CONFIG_ERROR", "could not read the config file", "config-loader", true});

  // At exit: a short, bounded chance for what is queued; the result does not matter.
  telemetry.flush(1s);
  return 0;
}
