// config: reads or changes what the privacy policy says the user may change without editing
// files: how long the local log is kept (maxDataRetention, days), where uploads go (endpoint)
// and the collection level. A shorter retention prunes at once; a lower level deletes what it
// switched off, as consent does. Only the fields given in "set" change.
#include "daemon/commands/choices.hpp"
#include "daemon/commands/command_table.hpp"
#include "daemon/consent.hpp"
#include "daemon/settings.hpp"
#include "daemon/upload/upload_policy.hpp"

namespace dollhouse::daemon {

using nlohmann::json;

namespace {

json config_json(const CommandContext& ctx, const TelemetryConfig& config) {
  return {{ipc::field::kMaxDataRetention, config.max_data_retention},
          {"level", level_of(config.categories)},
          {"categories", config.categories},
          {"endpoint", ctx.uploader.endpoint()},
          {"configuredEndpoint", config.endpoint.empty() ? json() : json(config.endpoint)},
          {"endpointOverride",
           ctx.facts.endpoint_override.empty() ? json() : json(ctx.facts.endpoint_override)},
          {"defaultEndpoint", kDefaultEndpoint}};
}

}  // namespace

void handle_config(CommandContext& ctx, const std::shared_ptr<Connection>& connection,
                   const ipc::Request& req) {
  auto set = req.body.find("set");
  if (set == req.body.end() || set->is_null()) {
    connection->reply_ok(req.id, {{"config", config_json(ctx, ctx.consent.config())}});
    return;
  }
  if (!set->is_object()) {
    connection->reply_error(req.id, ipc::ErrorCode::kInvalidRequest,
                            "set must be an object of maxDataRetention, endpoint, level");
    return;
  }
  for (const auto& [name, value] : set->items()) {
    if (name != ipc::field::kMaxDataRetention && name != "endpoint" && name != "level") {
      connection->reply_error(req.id, ipc::ErrorCode::kInvalidRequest,
                              "config cannot set \"" + name.substr(0, 32) +
                                  "\"; it sets maxDataRetention, endpoint and level");
      return;
    }
  }
  const TelemetryConfig& before = ctx.consent.config();
  Choice choice;
  choice.config = before;
  json level_only = json::object();
  for (const char* key : {ipc::field::kMaxDataRetention, "level"}) {
    if (set->contains(key)) level_only[key] = (*set)[key];
  }
  if (auto error = read_preferences(level_only, choice.config)) {
    connection->reply_error(req.id, ipc::ErrorCode::kInvalidRequest, *error);
    return;
  }
  std::optional<std::string> new_endpoint;
  if (auto it = set->find("endpoint"); it != set->end()) {
    if (!it->is_null() && !it->is_string()) {
      connection->reply_error(req.id, ipc::ErrorCode::kInvalidRequest,
                              "endpoint must be a URL, or null for the default");
      return;
    }
    choice.config.endpoint = it->is_null() ? std::string() : it->get<std::string>();
    new_endpoint =
        choice.config.endpoint.empty() ? std::string(kDefaultEndpoint) : choice.config.endpoint;
    if (auto parsed = parse_endpoint(*new_endpoint); !parsed) {
      connection->reply_error(req.id, ipc::ErrorCode::kInvalidRequest,
                              "endpoint: " + parsed.status().message());
      return;
    }
  }
  choice.purge = plan_purge(before, choice.config, ctx.clock.now());
  if (new_endpoint && !ctx.facts.endpoint_override.empty()) {
    choice.reply["warning"] = ctx.facts.endpoint_override +
                              " chose the endpoint when the daemon started and still wins; the "
                              "new value is saved and used once the daemon runs without it";
  }
  const bool endpoint_changes = new_endpoint && ctx.facts.endpoint_override.empty();
  choice.reply["config"] = config_json(ctx, choice.config);
  if (endpoint_changes) choice.reply["config"]["endpoint"] = *new_endpoint;
  Uploader& uploader = ctx.uploader;
  commit_choice(ctx, connection, req.id, std::move(choice),
                [&uploader, endpoint_changes, new_endpoint] {
                  if (endpoint_changes) (void)uploader.set_endpoint(*new_endpoint);
                });
}

void handle_shutdown(CommandContext& ctx, const std::shared_ptr<Connection>& connection,
                     const ipc::Request& req) {
  connection->reply_ok(req.id, {{"stopping", true}, {"pid", ctx.facts.pid}});
  if (ctx.stop_daemon) ctx.stop_daemon();
}

}  // namespace dollhouse::daemon
