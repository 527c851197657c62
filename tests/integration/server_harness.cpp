#include "tests/integration/server_harness.hpp"

#include <signal.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "server/http/gzip.hpp"

namespace dollhouse::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

nlohmann::json HttpReply::json() const {
  return nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
}

struct HttpClient::Impl {
  std::string host;
  int port;
  std::string ca_file;
  asio::io_context ioc;
  std::optional<asio::ssl::context> tls;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;

  bool connected() const { return plain.has_value() || secure.has_value(); }

  beast::error_code connect() {
    beast::error_code ec;
    tcp::endpoint ep(asio::ip::make_address(host), static_cast<unsigned short>(port));
    if (ca_file.empty()) {
      plain.emplace(ioc);
      plain->expires_after(std::chrono::seconds(30));
      plain->connect(ep, ec);
      if (ec) plain.reset();
      return ec;
    }
    if (!tls) {
      tls.emplace(asio::ssl::context::tls_client);
      tls->load_verify_file(ca_file, ec);
      if (ec) return ec;
      tls->set_verify_mode(asio::ssl::verify_peer);
    }
    secure.emplace(ioc, *tls);
    secure->set_verify_callback(asio::ssl::host_name_verification(host));
    beast::get_lowest_layer(*secure).expires_after(std::chrono::seconds(30));
    beast::get_lowest_layer(*secure).connect(ep, ec);
    if (!ec) secure->handshake(asio::ssl::stream_base::client, ec);
    if (ec) secure.reset();
    return ec;
  }

  template <typename Fn>
  auto with_stream(Fn&& fn) {
    if (secure) return fn(*secure);
    return fn(*plain);
  }

  void reset() {
    plain.reset();
    secure.reset();
    buffer.clear();
  }
};

HttpClient::HttpClient(std::string host, int port, std::string ca_file)
    : impl_(std::make_unique<Impl>()) {
  impl_->host = std::move(host);
  impl_->port = port;
  impl_->ca_file = std::move(ca_file);
}

HttpClient::~HttpClient() = default;

void HttpClient::close() {
  impl_->reset();
}

HttpReply HttpClient::send(const HttpRequest& req) {
  HttpReply reply;
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool fresh = !impl_->connected();
    if (fresh) {
      if (auto ec = impl_->connect()) {
        reply.error = ec.message();
        return reply;
      }
      ++connections_;
    }
    http::request<http::string_body> msg(http::string_to_verb(req.method), req.target, 11);
    msg.set(http::field::host, impl_->host);
    for (const auto& [k, v] : req.headers) msg.set(k, v);
    msg.body() = req.body;
    msg.prepare_payload();
    msg.keep_alive(true);
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 << 20);
    beast::error_code ec;
    impl_->with_stream([&](auto& stream) {
      beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(30));
      http::write(stream, msg, ec);
      if (!ec) http::read(stream, impl_->buffer, parser, ec);
      return 0;
    });
    if (ec) {
      impl_->reset();
      reply.error = ec.message();
      if (!fresh) continue;  // the server closed an idle kept-alive connection: retry once
      return reply;
    }
    const auto& res = parser.get();
    reply.status = static_cast<int>(res.result_int());
    for (const auto& field : res) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      reply.headers[name] = std::string(field.value());
    }
    reply.body = res.body();
    reply.error.clear();
    if (!res.keep_alive()) impl_->reset();
    return reply;
  }
  return reply;
}

HttpReply HttpClient::get(const std::string& target) {
  return send({"GET", target, "", {}});
}

HttpReply HttpClient::del(const std::string& target) {
  return send({"DELETE", target, "", {}});
}

HttpReply HttpClient::post_batch(const nlohmann::json& batch, bool gzip) {
  HttpRequest req{"POST", "/api/v1/telemetry", batch.dump(), {}};
  req.headers = {{"Content-Type", "application/json"},
                 {"X-Telemetry-Version", "1.0"},
                 {"Idempotency-Key", batch.value("batchId", std::string())}};
  if (gzip) {
    req.body = server::deflate_gzip(req.body);
    req.headers.emplace_back("Content-Encoding", "gzip");
  }
  return send(req);
}

std::string HttpClient::raw(const std::string& bytes) {
  impl_->reset();
  asio::io_context ioc;
  tcp::socket socket(ioc);
  beast::error_code ec;
  socket.connect(
      tcp::endpoint(asio::ip::make_address(impl_->host), static_cast<unsigned short>(impl_->port)),
      ec);
  if (ec) return "";
  asio::write(socket, asio::buffer(bytes), ec);
  std::string out;
  char buf[4096];
  for (;;) {
    std::size_t n = socket.read_some(asio::buffer(buf), ec);
    out.append(buf, n);
    if (ec) break;
  }
  return out;
}

ServerProcess::ServerProcess(std::vector<std::string> extra_args, std::string database)
    : database_(database.empty() ? dir_.file("server.db") : std::move(database)) {
  std::vector<std::string> argv = {build_bin("dollhouse-telemetry-server"), "--listen",
                                   "127.0.0.1:0", "--database", database_};
  for (auto& a : extra_args) {
    if (a == "--tls-cert") tls_ = true;
    argv.push_back(std::move(a));
  }
  process_ = std::make_unique<ChildProcess>(argv, base_env(dir_.path()));
  if (!process_->wait_for_output("listening on", std::chrono::seconds(30))) return;
  const std::string err = process_->err();
  auto at = err.find("listening on");
  auto colon = err.find(':', err.find("127.0.0.1", at));
  if (colon != std::string::npos) port_ = std::atoi(err.c_str() + colon + 1);
}

std::string ServerProcess::url(const std::string& path) const {
  return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) + path;
}

std::optional<int> ServerProcess::stop() {
  process_->signal(SIGTERM);
  return process_->wait(std::chrono::seconds(20));
}

}  // namespace dollhouse::testing
