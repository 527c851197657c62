#include "daemon/run_daemon.hpp"

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>

#include "common/environment.hpp"
#include "daemon/consent_state.hpp"
#include "daemon/daemon.hpp"
#include "daemon/instance_lock.hpp"
#include "daemon/logging.hpp"
#include "daemon/process_setup.hpp"
#include "daemon/service.hpp"
#include "daemon/settings.hpp"
#include "daemon/storage/sqlite_event_store.hpp"
#include "ipc/local_transport.hpp"
#include "ipc/private_directory.hpp"

namespace dollhouse::daemon {

namespace asio = boost::asio;

namespace {

int fail(const std::string& message) {
  std::cerr << "dollhouse-telemetryd: " << message << "\n";
  if (spdlog::default_logger()) spdlog::error("{}", message);
  return 1;
}

}  // namespace

int RunDaemon(int argc, char** argv, const ServiceHooks& hooks) {
  CLI::App cli{
      "dollhouse-telemetryd: the per-user Dollhouse Telemetry daemon. Receives events "
      "from apps over a local socket, applies the user's consent, removes personal "
      "data and keeps them in a local queue. Runs in the foreground."};
  std::optional<std::string> home_flag, socket_flag, endpoint_flag;
  std::string log_level = "info";
  UploadSettings upload = default_upload_settings();
  std::int64_t upload_interval_s = upload.flush_interval.count() / 1000;
  std::int64_t backoff_base_ms = upload.backoff_base.count();
  std::int64_t backoff_cap_ms = upload.backoff_cap.count();
  std::int64_t request_timeout_ms = upload.timeouts.total.count();
  cli.add_option("--home", home_flag, "Data root (default: $DOLLHOUSE_HOME or ~/.dollhouse)");
  cli.add_option("--socket", socket_flag,
                 "Socket path (default: $DOLLHOUSE_TELEMETRY_SOCKET, "
                 "$XDG_RUNTIME_DIR/dollhouse/telemetry.sock, or <root>/run/telemetry.sock)");
  cli.add_option("--endpoint", endpoint_flag, "Ingestion URL events are uploaded to");
  cli.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str();
  cli.add_option("--upload-interval", upload_interval_s,
                 "Seconds between uploads while events are pending (kFlushInterval)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{7 * 24 * 3600}))
      ->capture_default_str();
  cli.add_option("--backoff-base", backoff_base_ms,
                 "Milliseconds: first retry window after a failed upload (kBackoffBase)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{24 * 3600 * 1000}))
      ->capture_default_str();
  cli.add_option("--backoff-cap", backoff_cap_ms,
                 "Milliseconds: largest retry window (kBackoffCap)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{7 * 24 * 3600 * 1000LL}))
      ->capture_default_str();
  cli.add_option("--request-timeout", request_timeout_ms,
                 "Milliseconds one upload request may take in all (kRequestTimeout)")
      ->check(CLI::Range(std::int64_t{100}, std::int64_t{600 * 1000}))
      ->capture_default_str();
  cli.set_version_flag("--version", DOLLHOUSE_VERSION);
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e) == 0 ? 0 : 2;
  }

  prepare_daemon_process();
  EnvLookup env = process_env();
  auto root = resolve_data_root(home_flag, env);
  if (!root) return fail(root.status().message());
  const std::string data_root = *root;
  if (Status st = ipc::prepare_private_directory(data_root); !st) return fail(st.message());
  if (Status st = setup_logging(data_root + "/logs", log_level); !st) {
    std::cerr << "dollhouse-telemetryd: " << st.message() << "\n";
    return st.code() == "usage" ? 2 : 1;
  }
  auto lock = InstanceLock::acquire(data_root + "/telemetryd.lock");
  if (!lock) return fail(lock.status().message());

  const Clock& clock = SystemClock::instance();
  SystemRandom random;
  LoadedConfig loaded = load_config(data_root + "/telemetry.json", clock.now());
  if (!loaded.moved_aside.empty()) {
    spdlog::warn("telemetry.json was damaged; kept it as {} and started with no consent",
                 loaded.moved_aside);
  }
  auto opened = SqliteEventStore::open(data_root + "/telemetry.db", to_unix_millis(clock.now()));
  if (!opened) return fail(opened.status().message());
  if (!opened->recovered_from.empty()) {
    spdlog::warn("telemetry.db was damaged; kept it as {} and started a new one",
                 opened->recovered_from);
  }

  DaemonOptions options;
  options.data_root = data_root;
  options.socket_path = resolve_socket_path(socket_flag, env, data_root);
  options.platform = detect_platform();
  options.clock = &clock;
  std::string endpoint;
  if (endpoint_flag) {
    endpoint = *endpoint_flag;
    options.endpoint_override = "--endpoint";
  } else if (auto e = env("DOLLHOUSE_TELEMETRY_ENDPOINT"); e && !e->empty()) {
    endpoint = *e;
    options.endpoint_override = "DOLLHOUSE_TELEMETRY_ENDPOINT";
  } else if (!loaded.config.endpoint.empty()) {
    endpoint = loaded.config.endpoint;
  } else {
    endpoint = kDefaultEndpoint;
  }

  UploadSnapshot upload_snapshot = read_upload_snapshot(*opened->store);
  StorageWorker storage(std::move(opened->store), clock,
                        {kMaxStoredEvents, kMaxStoredBytes, kMaxTasksPerCommit});
  if (Status st = storage.start(); !st) return fail(st.message());

  asio::io_context io(1);
  // A socket passed by the service manager is used as it is and never removed: it belongs to
  // the .socket unit (or the launchd job), which outlives this process.
  auto activated = take_activated_socket();
  if (!activated) {
    storage.stop();
    return fail(activated.status().message());
  }
  const bool socket_activated = activated->has_value();
  if (socket_activated && !(*activated)->path.empty()) options.socket_path = (*activated)->path;
  auto listener = socket_activated
                      ? ipc::LocalListener::adopt(io.get_executor(), (*activated)->fd)
                      : ipc::LocalListener::open(io.get_executor(), options.socket_path);
  if (!listener) {
    storage.stop();
    return fail(listener.status().message());
  }

  const std::string socket_path = options.socket_path;
  spdlog::info("{}", socket_activated ? "using the socket passed by the service manager"
                                      : "created its own socket");
  const KillSwitch kill_switch = evaluate_kill_switches(env);
  if (kill_switch.off) spdlog::info("collection is off: {}", kill_switch.detail);
  ConsentState consent(data_root + "/telemetry.json", std::move(loaded.config), kill_switch,
                       random);
  upload.flush_interval = std::chrono::seconds(upload_interval_s);
  upload.backoff_base = Millis(backoff_base_ms);
  upload.backoff_cap = Millis(std::max(backoff_cap_ms, backoff_base_ms));
  upload.timeouts.total = Millis(request_timeout_ms);
  upload.timeouts.connect = std::min(upload.timeouts.connect, upload.timeouts.total);
  upload.timeouts.handshake = std::min(upload.timeouts.handshake, upload.timeouts.total);
  std::string ca_file = env("DOLLHOUSE_TELEMETRY_CA_FILE").value_or("");
  Uploader uploader(io, storage, clock, random, endpoint, ca_file, upload,
                    [&consent] { return consent.blocker(); });
  bool stopping = false;
  std::function<void(const std::string&)> stop;
  options.stop = [&io, &stop] {
    asio::post(io, [&stop] { stop("dollhousectl daemon stop asked"); });
  };
  Daemon daemon(io, std::move(options), consent, storage, uploader,
                privacy::Scrubber(privacy::MachineIdentity::current()));
  daemon.start(std::move(*listener));
  uploader.start(upload_snapshot);

  stop = [&](const std::string& why) {
    if (stopping) return;
    stopping = true;
    spdlog::info("{}; finishing", why);
    if (Status st = notify_service_manager("STOPPING=1", env); !st)
      spdlog::warn("{}", st.message());
    daemon.shutdown();
    uploader.shutdown(std::chrono::duration_cast<Millis>(kShutdownFlushDeadline),
                      [&io] { io.stop(); });
  };
  asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    stop("received signal " + std::to_string(signo));
  });
  // The service manager's stop comes from its own thread and may come late; once io is gone
  // the bridge is cut (under its mutex) so a late stop does nothing.
  struct StopBridge {
    std::mutex mutex;
    asio::io_context* io = nullptr;
  };
  auto bridge = std::make_shared<StopBridge>();
  bridge->io = &io;
  struct CutBridge {
    std::shared_ptr<StopBridge> bridge;
    ~CutBridge() {
      std::lock_guard guard(bridge->mutex);
      bridge->io = nullptr;
    }
  } cut_bridge{bridge};
  if (hooks.on_ready) {
    hooks.on_ready([bridge, &stop] {
      std::lock_guard guard(bridge->mutex);
      if (bridge->io != nullptr) {
        asio::post(*bridge->io, [&stop] { stop("the service manager asked"); });
      }
    });
  }
  spdlog::info("dollhouse-telemetryd {} listening on {} (pid {})", DOLLHOUSE_VERSION, socket_path,
               current_process_id());
  if (Status st = notify_service_manager("READY=1", env); !st) spdlog::warn("{}", st.message());
  io.run();

  // Everything accepted was handed to the storage thread; stop() commits it.
  storage.stop();
  if (!socket_activated) remove_own_socket(socket_path);
  spdlog::info("stopped; all accepted events are committed");
  spdlog::default_logger()->flush();
  return 0;
}

}  // namespace dollhouse::daemon
