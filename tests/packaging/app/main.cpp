// Constructs a client with DO_NOT_TRACK=1 in its environment: it must come up as a no-op and
// destroy cleanly. Exit 0 on success.
#include <dollhouse/telemetry.hpp>

#include <cstdio>

int main() {
  dollhouse::telemetry::ClientOptions options;
  options.app = "packaging-app";
  options.app_version = "1.0.0";
  options.environment = std::map<std::string, std::string>{{"DO_NOT_TRACK", "1"}};
  dollhouse::telemetry::Client client(options);
  if (client.enabled()) {
    std::fprintf(stderr, "the client is enabled despite DO_NOT_TRACK=1\n");
    return 1;
  }
  std::puts("packaging app: client constructed, telemetry off");
  return 0;
}
