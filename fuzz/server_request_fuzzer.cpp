// The reference server's request handling, from the bytes on the connection to the batch
// validation: the server's own session (server/http/session.cpp: Beast's parser with the
// server's header and body limits, target parsing, gzip inflation) and router, in front of the
// ingest, delete, stats, health and dashboard routes, real SQLite storage in a temporary
// directory and the privacy engine.
//
// Each input is what a client sends on one connection before closing its side; it reaches the
// session through a socketpair, served on one thread in this process, so a run is deterministic
// (the clock is fixed and the rate limit off, so every batch reaches validation). Checked, for
// every input:
// - the server's answer is a sequence of well-formed HTTP/1.1 responses, at most one per request
//   plus one for a request it refused to read, and at least one when a request was complete;
// - none is a 5xx: bad input is the client's fault, never the server's;
// - every response carries the server's fixed security headers;
// - an ingest answer (202) is a JSON object with the accepted and rejected counts of at most
//   Limits::max_events_per_batch events and the duplicate flag.
// The connection must end on its own once the client closed its side: a session that waited for
// a timer instead would make the run's -timeout fire.
#include <sys/socket.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "fuzz/fuzz_checks.hpp"
#include "privacy/privacy.hpp"
#include "server/http/session.hpp"
#include "server/rate_limiter.hpp"
#include "server/server_context.hpp"
#include "server/storage/storage.hpp"
#include "tests/support/fake_clock.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace server = dollhouse::server;
using dollhouse::fuzz::check;
using nlohmann::json;

// The server's clock during the run: the day the seed corpus's events happened.
dollhouse::SystemTime fixed_now() {
  dollhouse::SystemTime t;
  check(dollhouse::parse_iso8601("2025-01-13T12:00:00Z", t), "bad fixed time");
  return t;
}

// One server, built once per run, which every input talks to.
struct Server {
  Server() {
    auto opened = server::open_storage(dir.file("server.db"));
    check(opened.is_ok(), "cannot open the server's storage");
    storage = std::move(*opened);
    ctx.reset(new server::ServerContext{
        *storage, clock, scrubber, bucket, server::Limits{}, {}, clock.now(), ""});
  }

  dollhouse::testing::TempDir dir;
  dollhouse::testing::FakeClock clock{fixed_now()};
  dollhouse::privacy::Scrubber scrubber{dollhouse::fuzz::fixed_identity()};
  server::TokenBucket bucket{0, 0, {}};  // rate 0: no rate limit
  std::unique_ptr<server::Storage> storage;
  std::unique_ptr<server::ServerContext> ctx;
  std::shared_ptr<server::SessionRegistry> registry = std::make_shared<server::SessionRegistry>();
  asio::io_context io;
};

Server& the_server() {
  static Server instance;
  return instance;
}

// Sends `request` on a new connection, closes the sending side and returns all the server
// wrote back until it closed the connection.
std::string exchange(Server& s, std::string_view request) {
  int fds[2];
  check(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0, "socketpair failed");
  beast::error_code ec;
  asio::ip::tcp::socket server_end(s.io);
  server_end.assign(asio::ip::tcp::v4(), fds[0], ec);
  check(!ec, "cannot adopt the server's end of the socketpair");
  asio::local::stream_protocol::socket client(s.io);
  client.assign(asio::local::stream_protocol(), fds[1], ec);
  check(!ec, "cannot adopt the client's end of the socketpair");

  server::start_session(std::move(server_end), *s.ctx, nullptr, s.registry, false);
  std::string reply;
  asio::async_write(client, asio::buffer(request.data(), request.size()),
                    [&client](beast::error_code, std::size_t) {
                      beast::error_code ignored;
                      client.shutdown(asio::socket_base::shutdown_send, ignored);
                    });
  asio::async_read(client, asio::dynamic_buffer(reply), [](beast::error_code, std::size_t) {});
  s.io.restart();
  s.io.run();
  return reply;
}

// Feeds `bytes` to `parser` as everything there is (the peer closed after it); how many bytes
// the message took, or nothing when they do not hold a complete one.
template <typename Parser>
std::optional<std::size_t> parse_one(Parser& parser, std::string_view bytes) {
  parser.eager(true);
  beast::error_code ec;
  std::size_t used = 0;
  while (!parser.is_done()) {
    const std::size_t n = parser.put(asio::buffer(bytes.data() + used, bytes.size() - used), ec);
    used += n;
    if (ec && ec != http::error::need_more) return std::nullopt;
    if (parser.is_done()) break;
    if (n == 0 || used == bytes.size()) {
      // No progress with everything there is: the end of the stream decides.
      ec = {};
      parser.put_eof(ec);
      if (ec || !parser.is_done()) return std::nullopt;
    }
  }
  return used;
}

// The methods of the complete requests in `input`, in order, as far as a client would
// expect answers to them (up to the first that does not keep the connection alive).
std::vector<std::string> request_methods(std::string_view input, const server::Limits& limits) {
  std::vector<std::string> methods;
  while (!input.empty()) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
    parser.body_limit(limits.max_body_bytes);
    const auto used = parse_one(parser, input);
    if (!used) break;
    methods.emplace_back(parser.get().method_string());
    if (!parser.get().keep_alive()) break;
    input.remove_prefix(*used);
  }
  return methods;
}

void check_response(const http::response<http::string_body>& res, const server::Limits& limits) {
  const unsigned status = res.result_int();
  check(status >= 200 && status < 500, "the server answered with a status outside 2xx-4xx");
  check(res[http::field::server] == "dollhouse-telemetry-server",
        "a response without the server's name");
  check(res["X-Content-Type-Options"] == "nosniff", "a response without nosniff");
  if (status != 202) return;
  const json body = json::parse(res.body(), nullptr, false);
  check(body.is_object(), "an ingest answer is not a JSON object");
  check(body.contains("accepted") && body["accepted"].is_number_unsigned() &&
            body.contains("rejected") && body["rejected"].is_number_unsigned(),
        "an ingest answer without its counts");
  check(body.contains("duplicate") && body["duplicate"].is_boolean(),
        "an ingest answer without its duplicate flag");
  check(body["accepted"].get<std::uint64_t>() + body["rejected"].get<std::uint64_t>() <=
            limits.max_events_per_batch,
        "an ingest answer counts more events than a batch may hold");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);  // the server logs every batch with rejections
  (void)the_server();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Server& s = the_server();
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::string reply = exchange(s, input);
  const std::vector<std::string> methods = request_methods(input, s.ctx->limits);

  std::string_view rest = reply;
  std::size_t responses = 0;
  while (!rest.empty()) {
    http::response_parser<http::string_body> parser;
    // The answer to a HEAD has the headers of the GET but no body.
    if (responses < methods.size() && methods[responses] == "HEAD") parser.skip(true);
    const auto used = parse_one(parser, rest);
    check(used.has_value(), "the server's answer is not well-formed HTTP");
    check_response(parser.get(), s.ctx->limits);
    rest.remove_prefix(*used);
    ++responses;
  }
  check(responses <= methods.size() + 1, "more responses than requests");
  check(methods.empty() || responses > 0, "a complete request got no response");
  return 0;
}
