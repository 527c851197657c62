// A small app for crash_capture_test: it connects the client library to the daemon, installs
// the crash handler (unless --no-handler), learns the consent state and then dies the way
// --mode says. Built without sanitizer instrumentation of its own, so a null dereference or a
// stack overflow is the real fault and not a sanitizer report.
//
// Usage: crash_child --home DIR --socket PATH --mode MODE [--no-handler]
// MODE: segv, bus, fpe, ill, abort, terminate, null, overflow, none.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "dollhouse/telemetry.hpp"

namespace {

using namespace std::chrono_literals;

// Deeper than any stack: the recursion ends only by running out of it.
volatile int g_max_depth = 1 << 30;

// Recurses until the stack runs out; the frame is kept by writing through a volatile buffer.
int overflow_stack(int depth) {
  volatile char frame[1024];
  frame[0] = static_cast<char>(depth);
  if (depth > g_max_depth) return frame[0];
  return overflow_stack(depth + 1) + frame[0];
}

int die(const std::string& mode) {
  if (mode == "segv") return std::raise(SIGSEGV);
  if (mode == "bus") return std::raise(SIGBUS);
  if (mode == "fpe") return std::raise(SIGFPE);
  if (mode == "ill") return std::raise(SIGILL);
  if (mode == "abort") std::abort();
  if (mode == "terminate") std::terminate();
  if (mode == "null") {
    int* volatile target = nullptr;
    *target = 1;
    return 1;
  }
  if (mode == "overflow") return overflow_stack(0);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string home, socket, mode = "none";
  bool handler = true;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--home" && i + 1 < argc) {
      home = argv[++i];
    } else if (arg == "--socket" && i + 1 < argc) {
      socket = argv[++i];
    } else if (arg == "--mode" && i + 1 < argc) {
      mode = argv[++i];
    } else if (arg == "--no-handler") {
      handler = false;
    } else {
      std::fprintf(stderr, "crash_child: unknown argument %s\n", arg.c_str());
      return 2;
    }
  }
  dollhouse::telemetry::ClientOptions options;
  options.app = "crash-child";
  options.app_version = "3.1.4";
  options.mcp_client = "claude-code";
  options.socket_path = socket;
  options.data_root = home;
  dollhouse::telemetry::Client client(options);
  if (handler) {
    auto result = client.install_crash_handler("crash-child-main");
    std::printf("handler: %d\n", static_cast<int>(result));
  }
  auto consent = client.refresh_consent(10s);
  std::printf("crash reports: %s\n", consent.crash_reports ? "on" : "off");
  std::fflush(stdout);
  return die(mode);
}
