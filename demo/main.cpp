// dollhouse-telemetry-demo: an example app that sends each kind of telemetry through the client
// library, then asks the daemon to confirm. Read it top to bottom as a usage guide: an app
// needs one Client, calls track()/usage() where things happen, and never waits for telemetry
// except, optionally, a short flush() before exit.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

// GCC 12 reports a false "potential null pointer dereference" inside CLI11's inlined string
// handling at -O2; it is not in this program's code.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <CLI/CLI.hpp>
#pragma GCC diagnostic pop

#include "common/environment.hpp"
#include "dollhouse/telemetry.h"
#include "dollhouse/telemetry.hpp"

namespace {

namespace telemetry = dollhouse::telemetry;
using std::chrono::milliseconds;

struct DemoOptions {
  std::string home;
  std::string socket;
  int count = 1;
  int timeout_ms = 5000;
};

// The user's home directory, so the error message below carries a real path for the daemon's
// scrubber to remove.
std::string home_directory(const dollhouse::EnvLookup& env) {
  auto root = dollhouse::resolve_data_root(std::nullopt, env);  // <home>/.dollhouse
  if (!root) return "/home/someone";
  std::string path = *root;
  for (std::string_view suffix : {"/.dollhouse", "\\.dollhouse"}) {
    if (path.size() > suffix.size() && path.ends_with(suffix)) {
      path.resize(path.size() - suffix.size());
      break;
    }
  }
  return path;
}

// Each call returns at once; the result only says whether the event was queued.
int emit_events(telemetry::Client& client, const std::string& home) {
  int queued = 0;
  queued += client.track(telemetry::InstallationEvent{"npm", "new", ""});
  queued += client.track(telemetry::UpdateEvent{"1.9.15", "1.9.16", true, "", 4200});

  telemetry::FailureEvent crash;
  crash.error_type = "startup";
  crash.error_category = "MODULE_NOT_FOUND";
  crash.error_message = "Cannot find module 'portfolio-indexer'";
  crash.component = "MCPServer";
  crash.recovered = false;
  queued += client.track_crash(crash);

  telemetry::FailureEvent error;
  error.error_type = "runtime";
  error.error_category = "ENOENT";
  error.error_message =
      "ENOENT: no such file or directory, open '" + home + "/.dollhouse/portfolio/x.md'";
  error.component = "PortfolioManager";
  error.recovered = true;
  queued += client.track_error(error);

  telemetry::Usage usage;
  usage.counters = {{"personasUsed", 3}, {"skillsUsed", 2}, {"sessions", 1}};
  usage.timings_ms = {{"startup", 812.0}, {"response", 41.5}};
  queued += client.usage(usage);
  return queued;
}

// The same through the C ABI, as a C program would do it.
bool emit_with_c_abi(const std::string& socket_path, int timeout_ms) {
  dh_telemetry_client* client =
      dh_telemetry_open("dollhouse-telemetry-demo-c", DOLLHOUSE_VERSION, socket_path.c_str());
  if (client == nullptr) return false;
  bool queued =
      dh_telemetry_track_json(
          client,
          R"({"eventType":"error","errorType":"runtime","errorCategory":"EPIPE",)"
          R"("errorMessage":"write after end","component":"Transport","recovered":true})") == 0 &&
      dh_telemetry_usage_counter(client, "templatesUsed", 1) == 0;
  bool confirmed = queued && dh_telemetry_flush(client, timeout_ms) == 0;
  dh_telemetry_close(client);
  return confirmed;
}

int run_demo(const DemoOptions& options) {
  dollhouse::EnvLookup env = dollhouse::process_env();
  auto root = dollhouse::resolve_data_root(
      options.home.empty() ? std::nullopt : std::optional(options.home), env);
  std::string socket_path = dollhouse::resolve_socket_path(
      options.socket.empty() ? std::nullopt : std::optional(options.socket), env,
      root ? *root : std::string());

  telemetry::ClientOptions client_options;
  client_options.app = "dollhouse-telemetry-demo";
  client_options.app_version = DOLLHOUSE_VERSION;
  client_options.mcp_client = "other";
  client_options.socket_path = socket_path;
  telemetry::Client client(client_options);

  if (!client.enabled()) {
    std::cout << "Telemetry is off here: " << dollhouse::evaluate_kill_switches(env).detail
              << ".\nNothing was sent; an app behaves the same either way.\n";
    return 0;
  }

  std::cout << "Sending to the daemon at " << socket_path << "\n";
  int queued = 0;
  for (int i = 0; i < options.count; ++i) queued += emit_events(client, home_directory(env));
  bool confirmed = client.flush(milliseconds(options.timeout_ms));
  bool c_confirmed = emit_with_c_abi(socket_path, options.timeout_ms);

  telemetry::ClientStats stats = client.stats();
  std::cout << "Queued " << queued << " of " << 5 * options.count
            << " messages (installation, update, crash, error with a home path, usage)"
            << (options.count > 1 ? ", " + std::to_string(options.count) + " rounds" : "")
            << ".\nWritten to the daemon: " << stats.delivered
            << "; dropped: " << stats.dropped_no_daemon << " (no daemon), "
            << stats.dropped_queue_full << " (queue full).\n";
  if (confirmed) {
    std::cout << "The daemon confirmed it has them (stored or dropped by its consent rules).\n";
  } else {
    std::cout << "No daemon confirmed them. Start it with `dollhouse-telemetryd` (or let "
                 "`dollhousectl telemetry status` start it), then run this again.\n";
  }
  std::cout << "C ABI client: " << (c_confirmed ? "confirmed" : "not confirmed") << ".\n";
  std::cout << "See what was kept with `dollhousectl telemetry show`.\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Example app that emits each telemetry event type through the client library."};
  DemoOptions options;
  app.add_option("--home", options.home, "Data root (default: $DOLLHOUSE_HOME or ~/.dollhouse)");
  app.add_option("--socket", options.socket,
                 "Daemon socket (default: $DOLLHOUSE_TELEMETRY_SOCKET, "
                 "$XDG_RUNTIME_DIR/dollhouse/telemetry.sock, <home>/run/telemetry.sock)");
  app.add_option("--count", options.count, "Rounds of events to send")->check(CLI::Range(1, 10000));
  app.add_option("--timeout-ms", options.timeout_ms, "How long to wait for the daemon to confirm")
      ->check(CLI::Range(0, 600000));
  CLI11_PARSE(app, argc, argv);
  try {
    return run_demo(options);
  } catch (const std::exception& e) {
    std::cerr << "dollhouse-telemetry-demo: " << e.what() << "\n";
    return 1;
  }
}
