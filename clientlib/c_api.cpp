// The C ABI: a thin, exception-free layer over dollhouse::telemetry::Client.
#include <new>

#include "dollhouse/telemetry.h"
#include "dollhouse/telemetry.hpp"

struct dh_telemetry_client {
  explicit dh_telemetry_client(dollhouse::telemetry::ClientOptions options)
      : client(std::move(options)) {}
  dollhouse::telemetry::Client client;
};

namespace {

int to_status(bool queued) {
  return queued ? 0 : -1;
}

}  // namespace

extern "C" {

dh_telemetry_client* dh_telemetry_open(const char* app, const char* app_version,
                                       const char* socket_path) {
  if (app == nullptr || app_version == nullptr) return nullptr;
  try {
    dollhouse::telemetry::ClientOptions options;
    options.app = app;
    options.app_version = app_version;
    if (socket_path != nullptr) options.socket_path = socket_path;
    return new dh_telemetry_client(std::move(options));
  } catch (...) {
    return nullptr;
  }
}

int dh_telemetry_track_json(dh_telemetry_client* client, const char* event_json) {
  if (client == nullptr) return -1;
  // A NULL event is counted like any other invalid event.
  return to_status(client->client.track_json(event_json == nullptr ? "" : event_json));
}

int dh_telemetry_usage_counter(dh_telemetry_client* client, const char* name, long long increment) {
  if (client == nullptr) return -1;
  try {
    dollhouse::telemetry::Usage usage;
    if (name != nullptr) usage.counters[name] = increment;
    return to_status(client->client.usage(usage));
  } catch (...) {
    return -1;
  }
}

int dh_telemetry_usage_timing(dh_telemetry_client* client, const char* name, double milliseconds) {
  if (client == nullptr) return -1;
  try {
    dollhouse::telemetry::Usage usage;
    if (name != nullptr) usage.timings_ms[name] = milliseconds;
    return to_status(client->client.usage(usage));
  } catch (...) {
    return -1;
  }
}

int dh_telemetry_flush(dh_telemetry_client* client, int timeout_ms) {
  if (client == nullptr) return -1;
  return to_status(
      client->client.flush(std::chrono::milliseconds(timeout_ms < 0 ? 0 : timeout_ms)));
}

int dh_telemetry_enabled(const dh_telemetry_client* client) {
  if (client == nullptr) return 0;
  return client->client.enabled() ? 1 : 0;
}

void dh_telemetry_close(dh_telemetry_client* client) {
  // The destructor only joins the worker; it catches everything itself.
  delete client;
}

}  // extern "C"
