#include "server/run_server.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <thread>
#include <vector>

#include "server/aggregation/aggregation_timer.hpp"
#include "server/http/http_server.hpp"

namespace dollhouse::server {

namespace asio = boost::asio;

namespace {

int fail(const std::string& message, int code = 1) {
  std::cerr << "dollhouse-telemetry-server: " << message << "\n";
  return code;
}

}  // namespace

bool parse_listen_address(const std::string& text, std::string& host, std::uint16_t& port) {
  std::size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 >= text.size()) return false;
  host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) return false;
  unsigned long value = 0;
  for (char c : text.substr(colon + 1)) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<unsigned long>(c - '0');
    if (value > 65535) return false;
  }
  port = static_cast<std::uint16_t>(value);
  return true;
}

int RunServer(int argc, char** argv) {
  CLI::App cli{
      "dollhouse-telemetry-server: receives Dollhouse Telemetry batches, keeps daily "
      "aggregates only, and serves a stats API and a dashboard."};
  std::string listen = "127.0.0.1:8080";
  std::string database = "./telemetry-server.db";
  std::string tls_cert, tls_key, log_level = "info";
  Limits limits;
  double rate = 50, burst = 200;
  unsigned threads = std::max(2u, std::min(4u, std::thread::hardware_concurrency()));
  long idle_seconds = 30, aggregate_seconds = 600, raw_hours = 24, batch_days = 30;
  cli.add_option("--listen", listen, "HOST:PORT to listen on")->capture_default_str();
  cli.add_option("--database", database, "SQLite file path, or postgresql://user@host:port/dbname")
      ->capture_default_str();
  cli.add_option("--tls-cert", tls_cert, "PEM certificate chain; enables HTTPS with --tls-key");
  cli.add_option("--tls-key", tls_key, "PEM private key for --tls-cert");
  cli.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str();
  cli.add_option("--threads", threads, "I/O threads")
      ->capture_default_str()
      ->check(CLI::Range(1u, 64u));
  std::size_t pool_size = 0;
  cli.add_option("--db-pool-size", pool_size,
                 "PostgreSQL connections (default: one per I/O thread; SQLite ignores it)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{256}));
  cli.add_option("--max-connections", limits.max_connections,
                 "Open connections; more get 503 Retry-After")
      ->capture_default_str();
  cli.add_option("--max-body-bytes", limits.max_body_bytes,
                 "Largest request body, on the wire and after gzip (413 beyond)")
      ->capture_default_str();
  cli.add_option("--idle-timeout", idle_seconds, "Seconds a connection may wait for a request")
      ->capture_default_str()
      ->check(CLI::Range(1L, 3600L));
  cli.add_option("--rate-limit", rate,
                 "Write requests per second, all clients together (0 = unlimited)")
      ->capture_default_str();
  cli.add_option("--rate-burst", burst, "Write requests allowed at once before limiting")
      ->capture_default_str();
  cli.add_option("--aggregate-interval", aggregate_seconds, "Seconds between aggregation runs")
      ->capture_default_str()
      ->check(CLI::Range(1L, 86400L));
  cli.add_option("--raw-retention-hours", raw_hours,
                 "Raw events older than this are rolled up and deleted")
      ->capture_default_str()
      ->check(CLI::Range(1L, 24L));
  cli.add_option("--batch-retention-days", batch_days, "How long batch ids are kept for dedup")
      ->capture_default_str()
      ->check(CLI::Range(1L, 365L));
  cli.add_option("--min-installations", limits.min_installations,
                 "Installations that must report a crash or error message on one day before "
                 "its text is kept and shown (the rest counts as \"other\")")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1000000}));
  std::string stats_token, stats_token_file;
  auto* token_opt = cli.add_option(
      "--stats-token", stats_token,
      "Require Authorization: Bearer TOKEN for stats, exports and reports (default: public)");
  cli.add_option("--stats-token-file", stats_token_file,
                 "Read the --stats-token from this file (its first line), so that it is not "
                 "visible in the process list")
      ->excludes(token_opt);
  cli.set_version_flag("--version", DOLLHOUSE_VERSION);
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e) == 0 ? 0 : 2;
  }

  auto level = spdlog::level::from_str(log_level);
  if (level == spdlog::level::off && log_level != "off") {
    return fail("--log-level: unknown level '" + log_level + "'", 2);
  }
  spdlog::set_default_logger(spdlog::stderr_color_mt("server"));
  spdlog::set_level(level);
  std::signal(SIGPIPE, SIG_IGN);

  std::string host;
  std::uint16_t port = 0;
  if (!parse_listen_address(listen, host, port)) {
    return fail("--listen: expected HOST:PORT, e.g. 127.0.0.1:8080", 2);
  }
  if (tls_cert.empty() != tls_key.empty()) {
    return fail("--tls-cert and --tls-key go together", 2);
  }
  std::shared_ptr<asio::ssl::context> tls;
  if (!tls_cert.empty()) {
    auto made = make_tls_context(tls_cert, tls_key);
    if (!made) return fail(made.status().message(), 2);
    tls = *made;
  }
  limits.idle_timeout = std::chrono::seconds(idle_seconds);
  if (!stats_token_file.empty()) {
    std::ifstream in(stats_token_file);
    if (!in || !std::getline(in, stats_token)) {
      return fail("--stats-token-file: cannot read " + stats_token_file, 2);
    }
    if (!stats_token.empty() && stats_token.back() == '\r') stats_token.pop_back();
    if (stats_token.empty()) return fail("--stats-token-file: the file's first line is empty", 2);
  } else if (token_opt->count() > 0 && stats_token.empty()) {
    return fail(
        "--stats-token: the token is empty; give one, or leave the option out for "
        "public statistics",
        2);
  }

  // Requests run their storage calls on the I/O threads, so one connection per thread is all
  // they can use at once.
  if (pool_size == 0) pool_size = threads;
  auto storage = open_storage(database, pool_size);
  if (!storage) return fail(storage.status().message());

  const Clock& clock = SystemClock::instance();
  privacy::Scrubber scrubber;  // the server's own machine identity is irrelevant to events
  TokenBucket limiter(rate, burst, clock.now());
  ServerContext ctx{**storage, clock, scrubber, limiter, limits, {}, clock.now(), stats_token};

  asio::io_context ioc;
  HttpServer server(ctx, ioc, tls.get());
  if (Status st = server.listen(host, port); !st) return fail(st.message());
  RetentionPolicy policy;
  policy.raw_events = std::chrono::hours(raw_hours);
  policy.batch_ids = std::chrono::hours(24 * batch_days);
  policy.min_installations = limits.min_installations;
  AggregationTimer aggregation(ioc, **storage, clock, policy,
                               std::chrono::seconds(aggregate_seconds));

  asio::steady_timer deadline(ioc);
  asio::steady_timer poll(ioc);
  // After a stop signal: once the last connection is gone, cancel the deadline so the loop ends.
  std::function<void()> wait_for_sessions = [&] {
    if (ctx.counters.connections_open.load() == 0) {
      deadline.cancel();
      return;
    }
    poll.expires_after(std::chrono::milliseconds(20));
    poll.async_wait([&](boost::system::error_code e) {
      if (!e) wait_for_sessions();
    });
  };
  asio::signal_set signals(ioc, SIGTERM, SIGINT);
  signals.async_wait([&](boost::system::error_code ec, int signo) {
    if (ec) return;
    spdlog::info("signal {}: stopping; requests in flight finish", signo);
    server.shutdown();
    aggregation.stop();
    // Requests in flight get a bounded time to finish.
    deadline.expires_after(std::chrono::seconds(10));
    deadline.async_wait([&ioc](boost::system::error_code e) {
      if (!e) ioc.stop();
    });
    wait_for_sessions();
  });

  server.start();
  aggregation.start();
  const std::string shown_host = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  spdlog::info("storage: {}", (*storage)->kind());
  // One write, so that a reader never sees half the line.
  const std::string ready = std::string("dollhouse-telemetry-server: listening on ") +
                            (tls ? "https" : "http") + "://" + shown_host + ":" +
                            std::to_string(server.port()) + "\n";
  std::cerr << ready << std::flush;

  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads; ++i) pool.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : pool) t.join();
  spdlog::info("stopped");
  return 0;
}

}  // namespace dollhouse::server
