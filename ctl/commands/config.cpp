// dollhousectl telemetry config get [retention|endpoint|level]
// dollhousectl telemetry config set retention DAYS | endpoint URL|default | level LEVEL
//
// What the privacy policy promises the user can change without editing files. The daemon
// validates and applies each change at once: a shorter retention removes older events now, a
// lower level deletes what it switched off, a new endpoint is used from the next upload on.
#include <charconv>
#include <iostream>
#include <string>

#include "ctl/commands/commands.hpp"
#include "ipc/reasons.hpp"

namespace dollhouse::ctl {

using nlohmann::json;

namespace {

struct ConfigOptions {
  std::string key;
  std::string value;
};

// The daemon's name for each key the user types.
const char* field_of(const std::string& key) {
  if (key == "retention") return ipc::field::kMaxDataRetention;
  if (key == "endpoint") return "endpoint";
  return "level";
}

std::string shown(const json& config, const std::string& key) {
  if (key == "retention") {
    return std::to_string(config.value(ipc::field::kMaxDataRetention, 0)) + " days";
  }
  if (key == "endpoint") {
    std::string text = config.value("endpoint", "");
    if (config["endpointOverride"].is_string()) {
      text += " (chosen by " + config["endpointOverride"].get<std::string>() +
              " when the daemon started)";
    } else if (config["configuredEndpoint"].is_null()) {
      text += " (the default)";
    }
    return text;
  }
  return config.value("level", "");
}

int get(DaemonClient& client, const ConfigOptions& o) {
  auto reply = client.request("config");
  if (!reply) return report_failure(reply.status());
  if (!reply->value("ok", false)) return report_error_reply(*reply);
  const json& config = (*reply)["config"];
  if (client.options().json) {
    std::cout << (o.key.empty() ? config : config[field_of(o.key)]).dump(2) << "\n";
    return kExitOk;
  }
  if (!o.key.empty()) {
    std::cout << shown(config, o.key) << "\n";
    return kExitOk;
  }
  for (const char* key : {"retention", "endpoint", "level"}) {
    std::cout << key << ": " << shown(config, key) << "\n";
  }
  return kExitOk;
}

int set(DaemonClient& client, const ConfigOptions& o) {
  json value;
  if (o.key == "retention") {
    std::string digits = o.value;
    if (!digits.empty() && (digits.back() == 'd' || digits.back() == 'D')) digits.pop_back();
    std::int64_t days = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), days);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
      std::cerr << "dollhousectl: retention is a number of days, such as 30 (got \"" << o.value
                << "\")\n";
      return kExitUsage;
    }
    value = days;
  } else if (o.key == "endpoint") {
    value = o.value == "default" ? json() : json(o.value);
  } else {
    value = o.value;
  }
  auto reply = client.request("config", {{"set", {{field_of(o.key), value}}}});
  if (!reply) return report_failure(reply.status());
  if (!reply->value("ok", false)) {
    const json& error = (*reply)["error"];
    if (error.value("code", "") != "invalid_request") return report_error_reply(*reply);
    // A value the daemon refused is a usage error, said in the words the user typed.
    std::string message = error.value("message", "invalid value");
    if (auto at = message.find(ipc::field::kMaxDataRetention); at != std::string::npos) {
      message.replace(at, std::string(ipc::field::kMaxDataRetention).size(), "retention");
    }
    std::cerr << "dollhousectl: " << message << "\n";
    return kExitUsage;
  }
  if (client.options().json) {
    std::cout << reply->dump(2) << "\n";
    return kExitOk;
  }
  const json& config = (*reply)["config"];
  std::cout << o.key << " is now " << shown(config, o.key) << ".\n";
  if (std::int64_t n = reply->value("pruned", std::int64_t{0}); n > 0) {
    std::cout << "Removed " << n << " event" << (n == 1 ? "" : "s")
              << " older than that from the local log.\n";
  }
  if (std::int64_t n = reply->value(ipc::field::kDroppedUnsent, std::int64_t{0}); n > 0) {
    std::cout << "Deleted " << n << " queued event" << (n == 1 ? "" : "s")
              << " of categories that are now off.\n";
  }
  if (reply->contains("warning")) {
    std::cout << "Note: " << (*reply)["warning"].get<std::string>() << "\n";
  }
  return kExitOk;
}

}  // namespace

void add_config_command(CLI::App& parent, GlobalOptions& global, Action& run) {
  auto* cmd = parent.add_subcommand(
      "config", "Read or change retention, the upload endpoint and the collection level");
  cmd->require_subcommand(1);
  const auto keys = CLI::IsMember({"retention", "endpoint", "level"});

  auto g = std::make_shared<ConfigOptions>();
  auto* get_cmd = cmd->add_subcommand("get", "Print the settings (or one of them)");
  get_cmd->add_option("key", g->key, "retention, endpoint or level")->check(keys);
  get_cmd->add_flag("--json", global.json, "Print as JSON");
  get_cmd->callback([&run, g] { run = [g](DaemonClient& c) { return get(c, *g); }; });

  auto s = std::make_shared<ConfigOptions>();
  auto* set_cmd = cmd->add_subcommand(
      "set", "Change one: retention DAYS, endpoint URL (or default), level all|error|crash|off");
  set_cmd->add_option("key", s->key, "retention, endpoint or level")->required()->check(keys);
  set_cmd->add_option("value", s->value, "The new value")->required();
  set_cmd->add_flag("--json", global.json, "Print the daemon's reply as JSON");
  set_cmd->callback([&run, s] {
    if (s->key == "level" && s->value != "all" && s->value != "error" && s->value != "crash" &&
        s->value != "off") {
      throw CLI::ValidationError("level", "must be one of all, error, crash, off");
    }
    run = [s](DaemonClient& c) { return set(c, *s); };
  });
  for (auto* sub : cmd->get_subcommands({})) sub->fallthrough();
}

}  // namespace dollhouse::ctl
