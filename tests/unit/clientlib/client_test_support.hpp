// Options shared by the client tests: a fixed app, an explicit socket, an empty environment
// (so the test runner's own CI variables do not switch the client off) and short delays.
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "dollhouse/telemetry.hpp"

namespace dollhouse::testing {

inline telemetry::ClientOptions client_options(const std::string& socket_path) {
  using namespace std::chrono_literals;
  telemetry::ClientOptions options;
  options.app = "dollhousemcp";
  options.app_version = "1.9.16";
  options.socket_path = socket_path;
  options.environment = std::map<std::string, std::string>{};
  options.reconnect_min = 20ms;
  options.reconnect_max = 200ms;
  options.shutdown_timeout = 1000ms;
  return options;
}

inline telemetry::FailureEvent sample_failure(const std::string& component) {
  telemetry::FailureEvent event;
  event.error_type = "runtime";
  event.error_category = "MODULE_NOT_FOUND";
  event.error_message = "Failed to load configuration";
  event.component = component;
  event.recovered = true;
  return event;
}

}  // namespace dollhouse::testing
