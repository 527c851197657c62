#include "daemon/daemon.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "daemon/commands/command_table.hpp"
#include "daemon/consent.hpp"
#include "daemon/settings.hpp"
#include "daemon/usage_rollup.hpp"
#include "ipc/local_transport.hpp"

namespace dollhouse::daemon {

namespace asio = boost::asio;
using nlohmann::json;

Daemon::Daemon(asio::io_context& io, DaemonOptions options, TelemetryConfig config,
               StorageWorker& storage, privacy::Scrubber scrubber)
    : io_(io),
      options_(std::move(options)),
      config_(std::move(config)),
      storage_(storage),
      scrubber_(std::move(scrubber)),
      config_path_(options_.data_root + "/telemetry.json"),
      maintenance_timer_(io),
      accept_retry_timer_(io),
      started_at_(format_iso8601(options_.clock->now())) {}

void Daemon::start(Acceptor acceptor) {
  acceptor_.emplace(std::move(acceptor));
  do_accept();
  run_maintenance();
  schedule_maintenance();
}

void Daemon::shutdown() {
  stopping_ = true;
  if (acceptor_) acceptor_->close();
  maintenance_timer_.cancel();
  accept_retry_timer_.cancel();
  auto sessions = sessions_;
  for (auto& [id, weak] : sessions) {
    if (auto s = weak.lock()) s->drain_and_close();
  }
  sessions_.clear();
}

namespace {

// A client that went away between connecting and being accepted.
bool client_left_early(const boost::system::error_code& ec) {
  if (ec == asio::error::connection_aborted || ec == asio::error::connection_reset) return true;
#ifdef _WIN32
  // ERROR_NO_DATA (232), ERROR_PIPE_NOT_CONNECTED (233): the pipe client closed already.
  if (ec.category() == asio::error::get_system_category() &&
      (ec.value() == 232 || ec.value() == 233)) {
    return true;
  }
#endif
  return false;
}

}  // namespace

void Daemon::do_accept() {
  if (stopping_) return;
  acceptor_->async_accept([this](const boost::system::error_code& ec, Session::Socket socket) {
    if (ec) {
      if (ec == asio::error::operation_aborted || stopping_) return;
      if (client_left_early(ec)) {
        do_accept();  // that client's problem only: the next one is accepted at once
        return;
      }
      // Out of descriptors, or a pipe instance that cannot be made: try again shortly rather
      // than spin on an error that will not clear at once.
      spdlog::warn("accept failed: {}; retrying in {} ms", ec.message(), kAcceptRetryDelay.count());
      accept_retry_timer_.expires_after(kAcceptRetryDelay);
      accept_retry_timer_.async_wait([this](const boost::system::error_code& wait_ec) {
        if (!wait_ec) do_accept();
      });
      return;
    }
    if (!ipc::peer_is_same_user(socket).value_or(false)) {
      // Another user's process (or one the system cannot tell): close without a word.
      count("connections.rejected_peer");
      spdlog::warn("closed a connection from another user");
      ipc::close_stream(socket);
    } else if (sessions_.size() >= kMaxConnections) {
      count("connections.rejected_limit");
      spdlog::warn("connection limit of {} reached; refusing a client", kMaxConnections);
      std::string line =
          ipc::error_reply(nullptr, ipc::errc::kOverloaded,
                           "too many connections to the telemetry daemon; try again later");
      // Best effort, never waiting on the client: one write, then close.
      auto refused = std::make_shared<Session::Socket>(std::move(socket));
      auto text = std::make_shared<std::string>(std::move(line));
      asio::async_write(*refused, asio::buffer(*text),
                        [refused, text](const boost::system::error_code&, std::size_t) {
                          ipc::close_stream(*refused);
                        });
    } else {
      ++connections_total_;
      auto session = std::make_shared<Session>(*this, std::move(socket), next_session_id_++);
      sessions_[session->id()] = session;
      session->start();
    }
    do_accept();
  });
}

void Daemon::handle_frame(const std::shared_ptr<Session>& session, const ipc::Frame& frame) {
  ipc::ParseResult parsed = ipc::parse_request(frame);
  if (!parsed.request) {
    count("protocol." + parsed.error.code);
    session->reply_error(parsed.error.id, parsed.error.code, parsed.error.message, false);
    return;
  }
  const ipc::Request& req = *parsed.request;
  CommandHandler handler = find_command(req.op);
  if (handler == nullptr) {
    count(std::string("protocol.") + ipc::errc::kUnknownOp);
    session->reply_error(req.id, ipc::errc::kUnknownOp,
                         "unknown op \"" + req.op.substr(0, 32) +
                             "\"; this daemon knows hello, track, usage, sync, status, consent, "
                             "show, delete, export, flush",
                         false);
    return;
  }
  try {
    handler(*this, session, req);
  } catch (const std::exception& e) {
    count(std::string("protocol.") + ipc::errc::kInternal);
    spdlog::error("op {} failed: {}", req.op, e.what());
    session->reply_error(req.id, ipc::errc::kInternal, "internal error in the daemon", false);
  }
}

Status Daemon::rotate_install_id() {
  TelemetryConfig config = config_;
  config.install_id = make_uuid_v4(*options_.random);
  return replace_config(std::move(config));
}

Status Daemon::restore_install_id(const std::string& install_id) {
  TelemetryConfig config = config_;
  config.install_id = install_id;
  return replace_config(std::move(config));
}

Status Daemon::replace_config(TelemetryConfig config) {
  if (Status st = save_config(config_path_, config); !st) return st;
  config_ = std::move(config);
  return Status::ok();
}

std::string Daemon::collection_blocked_by() const {
  return collection_blocker(config_, options_.kill_switch, kPolicyVersion);
}

std::string Daemon::drop_reason_for(const std::string& category) const {
  return drop_reason(config_, options_.kill_switch, kPolicyVersion, category);
}

json Daemon::consent_summary() const {
  std::string blocker = collection_blocker(config_, options_.kill_switch, kPolicyVersion);
  return {{"enabled", blocker.empty()},
          {"given", config_.consent_given},
          {"blockedBy", blocker.empty() ? json() : json(blocker)},
          {"overriddenBy",
           options_.kill_switch.off ? json(options_.kill_switch.overridden_by) : json()},
          {"policyVersion", kPolicyVersion},
          {"categories", config_.categories}};
}

json Daemon::stamp(json body, const AppInfo& app) const {
  json platform = {{"os", options_.platform.os},
                   {"osVersion", options_.platform.os_version},
                   {"arch", options_.platform.arch},
                   {"mcpClient", app.mcp_client.empty() ? "unknown" : app.mcp_client}};
  if (!app.node_version.empty()) platform["nodeVersion"] = app.node_version;
  body["timestamp"] = format_iso8601(now());
  body["installId"] = config_.install_id;
  body["version"] = app.app_version;
  body["platform"] = std::move(platform);
  return body;
}

void Daemon::count(std::string name, std::int64_t n) {
  storage_.post([name = std::move(name), n](StorageContext& ctx) { ctx.count(name, n); });
}

void Daemon::count_drop(Session& session, const std::string& reason) {
  ++session.dropped;
  count("dropped." + reason);
}

bool Daemon::require_hello(Session& session, const ipc::Request& req) {
  if (session.app.known) return true;
  count_drop(session, "no_hello");
  session.reply_error(req.id, ipc::errc::kHelloRequired,
                      "send hello (app, appVersion) before " + req.op, false);
  return false;
}

json Daemon::status_base() const {
  const KillSwitch& ks = options_.kill_switch;
  std::string blocker = collection_blocker(config_, ks, kPolicyVersion);
  json consent = {
      {"given", config_.consent_given},
      {"timestamp", config_.consent_timestamp.empty() ? json() : json(config_.consent_timestamp)},
      {"policyVersion", config_.policy_version.empty() ? json() : json(config_.policy_version)},
      {"currentPolicyVersion", kPolicyVersion},
      {"valid", config_.consent_given && blocker != "policy_outdated" && blocker != "no_consent"}};
  return {{"enabled", blocker.empty()},
          {"blockedBy", blocker.empty() ? json() : json(blocker)},
          {"overriddenBy", ks.off ? json(ks.overridden_by) : json()},
          {"overrideDetail", ks.off ? json(ks.detail) : json()},
          {"userEnabled", config_.enabled},
          {"consent", consent},
          {"categories", config_.categories},
          {"level", level_of(config_.categories)},
          {"installId", config_.install_id.empty() ? json() : json(config_.install_id)},
          {"retentionDays", config_.max_data_retention_days},
          {"upload", uploader_ != nullptr ? uploader_->status_json()
                                          : json{{"endpoint", options_.endpoint},
                                                 {"configured", false},
                                                 {"lastSuccess", nullptr},
                                                 {"lastError", nullptr},
                                                 {"nextAttempt", nullptr},
                                                 {"consecutiveFailures", 0}}},
          {"daemon",
           {{"version", DOLLHOUSE_VERSION},
            {"pid", current_process_id()},
            {"startedAt", started_at_},
            {"dataRoot", options_.data_root},
            {"socket", options_.socket_path},
            {"connections", sessions_.size()},
            {"connectionsTotal", connections_total_}}}};
}

void Daemon::query(const std::shared_ptr<Session>& session, const json& id, Query q) {
  session->begin_storage_request();
  storage_.post([this, session, id, q = std::move(q)](StorageContext& ctx) {
    auto result = std::make_shared<Result<json>>(q(ctx));
    ctx.on_commit.push_back([this, session, id, result](const Status& commit) {
      asio::post(io_, [session, id, result, commit] {
        session->end_storage_request();
        if (!commit) {
          session->reply_error(id, "storage_error",
                               "the daemon could not write its database: " + commit.message());
        } else if (!*result) {
          session->reply_error(id, result->status().code(), result->status().message());
        } else {
          session->reply_ok(id, std::move(result->value()));
        }
      });
    });
  });
}

void Daemon::schedule_maintenance() {
  maintenance_timer_.expires_after(kMaintenanceInterval);
  maintenance_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping_) return;
    run_maintenance();
    schedule_maintenance();
  });
}

void Daemon::run_maintenance() {
  SystemTime t = now();
  std::int64_t cutoff =
      to_unix_millis(t) - config_.max_data_retention_days * std::int64_t{24 * 3600 * 1000};
  WeekPosition current = local_week_position(t);
  bool usage_allowed = drop_reason_for("usage").empty();
  bool performance_allowed = drop_reason_for("performance").empty();
  AppInfo stamp_template;  // copied into the task: the storage thread must not read config_
  json base = stamp(json::object(), stamp_template);
  storage_.post([=, this](StorageContext& ctx) {
    if (auto evicted = ctx.store.evict_older_than(cutoff); evicted && evicted->removed > 0) {
      ctx.count("dropped.evicted_retention", evicted->removed_unsent);
      ctx.count("pruned.retention", evicted->removed - evicted->removed_unsent);
      spdlog::info("retention: removed {} events older than the retention period",
                   evicted->removed);
    }
    auto weeks = ctx.store.usage_weeks();
    if (!weeks) return;
    for (const auto& [key, text] : *weeks) {
      std::string week_start = key.substr(0, key.find('|'));
      if (week_start >= current.week_start) continue;  // still running
      json data = json::parse(text, nullptr, false);
      if (usage_allowed && data.is_object()) {
        json event = weekly_summary(week_start, usage_week_from_json(data), performance_allowed);
        for (auto& [k, v] : base.items()) event[k] = v;
        event["version"] = data.value("appVersion", "");
        if (data.contains("nodeVersion")) event["platform"]["nodeVersion"] = data["nodeVersion"];
        event["platform"]["mcpClient"] = data.value("mcpClient", "unknown");
        if (ctx.store.append(to_unix_millis(ctx.now), "weekly_summary", event.dump())) {
          ctx.appended = true;
          ctx.on_commit.push_back([this](const Status& st) {
            if (st) asio::post(io_, [this] { note_events_stored(1); });
          });
        }
      } else {
        ctx.count(usage_allowed ? "dropped.invalid_event" : "dropped.category_off");
      }
      (void)ctx.store.delete_usage_week(key);
    }
  });
}

}  // namespace dollhouse::daemon
