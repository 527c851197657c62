// The C ABI: a thin, exception-free layer over dollhouse::telemetry::Client.
#include <new>
#include <string>

#include "dollhouse/telemetry.h"
#include "dollhouse/telemetry.hpp"

struct dh_telemetry_options {
  dollhouse::telemetry::ClientOptions options;
};

struct dh_telemetry_client {
  explicit dh_telemetry_client(dollhouse::telemetry::ClientOptions options)
      : client(std::move(options)) {}
  dollhouse::telemetry::Client client;
};

namespace {

int to_status(bool queued) {
  return queued ? 0 : -1;
}

std::string or_empty(const char* text) {
  return text == nullptr ? std::string() : std::string(text);
}

int answer_code(dollhouse::telemetry::ConsentAnswer answer) {
  using dollhouse::telemetry::ConsentAnswer;
  switch (answer) {
    case ConsentAnswer::kNotAnswered:
      return DH_TELEMETRY_CONSENT_NOT_ANSWERED;
    case ConsentAnswer::kDeclined:
      return DH_TELEMETRY_CONSENT_DECLINED;
    case ConsentAnswer::kGiven:
      return DH_TELEMETRY_CONSENT_GIVEN;
    case ConsentAnswer::kWithdrawn:
      return DH_TELEMETRY_CONSENT_WITHDRAWN;
    case ConsentAnswer::kUnknown:
      break;
  }
  return DH_TELEMETRY_CONSENT_UNKNOWN;
}

int crash_code(dollhouse::telemetry::CrashHandlerResult result) {
  using dollhouse::telemetry::CrashHandlerResult;
  switch (result) {
    case CrashHandlerResult::kInstalled:
      return DH_TELEMETRY_CRASH_INSTALLED;
    case CrashHandlerResult::kDisabled:
      return DH_TELEMETRY_CRASH_DISABLED;
    case CrashHandlerResult::kAlreadyInstalled:
      return DH_TELEMETRY_CRASH_ALREADY_INSTALLED;
    case CrashHandlerResult::kNotSupported:
      return DH_TELEMETRY_CRASH_NOT_SUPPORTED;
    case CrashHandlerResult::kFailed:
      break;
  }
  return DH_TELEMETRY_CRASH_FAILED;
}

// Runs `set` on the options, turning NULL options and exceptions into -1.
template <typename Set>
int set_option(dh_telemetry_options* options, Set&& set) {
  if (options == nullptr) return -1;
  try {
    return set(options->options) ? 0 : -1;
  } catch (...) {
    return -1;
  }
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

dh_telemetry_options* dh_telemetry_options_new(const char* app, const char* app_version) {
  if (app == nullptr || app_version == nullptr) return nullptr;
  try {
    auto* options = new dh_telemetry_options;
    options->options.app = app;
    options->options.app_version = app_version;
    return options;
  } catch (...) {
    return nullptr;
  }
}

void dh_telemetry_options_free(dh_telemetry_options* options) {
  delete options;
}

int dh_telemetry_options_set_socket(dh_telemetry_options* options, const char* socket_path) {
  return set_option(options, [&](dollhouse::telemetry::ClientOptions& o) {
    if (socket_path == nullptr) return false;
    o.socket_path = socket_path;
    return true;
  });
}

int dh_telemetry_options_set_data_root(dh_telemetry_options* options, const char* data_root) {
  return set_option(options, [&](dollhouse::telemetry::ClientOptions& o) {
    if (data_root == nullptr) return false;
    o.data_root = data_root;
    return true;
  });
}

int dh_telemetry_options_set_mcp_client(dh_telemetry_options* options, const char* mcp_client) {
  return set_option(options, [&](dollhouse::telemetry::ClientOptions& o) {
    if (mcp_client == nullptr) return false;
    o.mcp_client = mcp_client;
    return true;
  });
}

int dh_telemetry_options_set_env(dh_telemetry_options* options, const char* name,
                                 const char* value) {
  return set_option(options, [&](dollhouse::telemetry::ClientOptions& o) {
    if (name == nullptr || value == nullptr) return false;
    if (!o.environment) o.environment.emplace();
    (*o.environment)[name] = value;
    return true;
  });
}

int dh_telemetry_options_set_installation(dh_telemetry_options* options, const char* method,
                                          const char* type, const char* previous_version) {
  return set_option(options, [&](dollhouse::telemetry::ClientOptions& o) {
    if (method == nullptr || type == nullptr) return false;
    o.installation =
        dollhouse::telemetry::InstallationEvent{method, type, or_empty(previous_version)};
    return true;
  });
}

int dh_telemetry_options_set_update(dh_telemetry_options* options, const char* from_version,
                                    const char* to_version, int success, const char* error_category,
                                    long long duration_ms) {
  return set_option(options, [&](dollhouse::telemetry::ClientOptions& o) {
    if (from_version == nullptr || to_version == nullptr) return false;
    o.update = dollhouse::telemetry::UpdateEvent{from_version, to_version, success != 0,
                                                 or_empty(error_category), duration_ms};
    return true;
  });
}

dh_telemetry_client* dh_telemetry_open_with(const dh_telemetry_options* options) {
  if (options == nullptr) return nullptr;
  try {
    return new dh_telemetry_client(options->options);
  } catch (...) {
    return nullptr;
  }
}

int dh_telemetry_install_crash_handler(dh_telemetry_client* client, const char* component) {
  if (client == nullptr) return DH_TELEMETRY_CRASH_FAILED;
  return crash_code(client->client.install_crash_handler(component == nullptr ? "" : component));
}

int dh_telemetry_consent(const dh_telemetry_client* client) {
  if (client == nullptr) return DH_TELEMETRY_CONSENT_UNKNOWN;
  return answer_code(client->client.consent().answer);
}

int dh_telemetry_collecting(const dh_telemetry_client* client) {
  if (client == nullptr) return 0;
  return client->client.consent().collecting ? 1 : 0;
}

int dh_telemetry_refresh_consent(dh_telemetry_client* client, int timeout_ms) {
  if (client == nullptr) return DH_TELEMETRY_CONSENT_UNKNOWN;
  return answer_code(
      client->client.refresh_consent(std::chrono::milliseconds(timeout_ms < 0 ? 0 : timeout_ms))
          .answer);
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
