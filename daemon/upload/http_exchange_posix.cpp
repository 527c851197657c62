// The Beast + OpenSSL transport (every platform but Windows).
#include "daemon/upload/http_exchange.hpp"

#include <openssl/ssl.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace dollhouse::daemon {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

// OpenSSL's client context, verification on.
class TlsContext {
 public:
  ssl::context ssl{ssl::context::tls_client};
};

Result<std::shared_ptr<TlsContext>> make_tls_context(const std::string& ca_file) {
  auto tls = std::make_shared<TlsContext>();
  ssl::context* ctx = &tls->ssl;
  boost::system::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1,
                   ec);
  ctx->set_verify_mode(ssl::verify_peer, ec);
  ctx->set_default_verify_paths(ec);
  if (ec) {
    return Status::error("tls_error", "cannot load the system certificate store: " + ec.message());
  }
  if (!ca_file.empty()) {
    ctx->load_verify_file(ca_file, ec);
    if (ec) {
      return Status::error("tls_error", "cannot load DOLLHOUSE_TELEMETRY_CA_FILE (" + ca_file +
                                            "): " + ec.message());
    }
  }
  return tls;
}

namespace {

// One exchange over a plain TCP stream or a TLS stream over TCP.
template <typename Stream>
class Exchange final : public HttpExchange, public std::enable_shared_from_this<Exchange<Stream>> {
 public:
  Exchange(asio::io_context& io, Stream stream, const Endpoint& endpoint, HttpRequestSpec spec,
           HttpTimeouts timeouts, Done done)
      : io_(io),
        stream_(std::move(stream)),
        resolver_(io),
        deadline_(io),
        endpoint_(endpoint),
        timeouts_(timeouts),
        done_(std::move(done)) {
    request_.method_string(spec.method);
    request_.target(spec.target);
    request_.version(11);
    std::string host =
        endpoint.host.find(':') != std::string::npos ? "[" + endpoint.host + "]" : endpoint.host;
    bool default_port =
        (endpoint.tls && endpoint.port == "443") || (!endpoint.tls && endpoint.port == "80");
    request_.set(http::field::host, default_port ? host : host + ":" + endpoint.port);
    request_.set(http::field::user_agent, std::string("dollhouse-telemetryd/") + DOLLHOUSE_VERSION);
    request_.set(http::field::connection, "close");
    for (auto& [name, value] : spec.headers) request_.set(name, value);
    request_.body() = std::move(spec.body);
    request_.prepare_payload();
    parser_.body_limit(kMaxResponseBytes);
  }

  void run() {
    auto self = this->shared_from_this();
    deadline_.expires_after(timeouts_.total);
    deadline_.async_wait([self](const boost::system::error_code& ec) {
      if (!ec)
        self->fail("no complete answer within " +
                   std::to_string(self->timeouts_.total.count() / 1000) + " s");
    });
    resolver_.async_resolve(
        endpoint_.host, endpoint_.port,
        [self](const boost::system::error_code& ec, tcp::resolver::results_type results) {
          self->on_resolve(ec, std::move(results));
        });
  }

  void cancel() override { fail("cancelled"); }

 private:
  beast::tcp_stream& tcp() { return beast::get_lowest_layer(stream_); }

  void on_resolve(const boost::system::error_code& ec, tcp::resolver::results_type results) {
    if (ec) return fail("cannot resolve " + endpoint_.host + ": " + ec.message());
    tcp().expires_after(timeouts_.connect);
    tcp().async_connect(
        results, [self = this->shared_from_this()](const boost::system::error_code& e,
                                                   const tcp::endpoint&) { self->on_connect(e); });
  }

  void on_connect(const boost::system::error_code& ec) {
    if (ec) return fail("cannot connect to " + endpoint_.host + ": " + ec.message());
    if constexpr (std::is_same_v<Stream, beast::ssl_stream<beast::tcp_stream>>) {
      // SNI. (SSL_set_tlsext_host_name is a macro with a C cast; this is what it expands to.)
      if (SSL_ctrl(stream_.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                   const_cast<char*>(endpoint_.host.c_str())) != 1) {
        return fail("cannot set the TLS server name");
      }
      stream_.set_verify_callback(ssl::host_name_verification(endpoint_.host));
      tcp().expires_after(timeouts_.handshake);
      stream_.async_handshake(ssl::stream_base::client, [self = this->shared_from_this()](
                                                            const boost::system::error_code& e) {
        if (e) return self->fail("TLS handshake failed: " + e.message());
        self->do_write();
      });
    } else {
      do_write();
    }
  }

  void do_write() {
    tcp().expires_never();  // the overall deadline still applies
    http::async_write(
        stream_, request_,
        [self = this->shared_from_this()](const boost::system::error_code& ec, std::size_t) {
          if (ec) return self->fail("sending the request failed: " + ec.message());
          self->do_read();
        });
  }

  void do_read() {
    http::async_read(stream_, buffer_, parser_,
                     [self = this->shared_from_this()](const boost::system::error_code& ec,
                                                       std::size_t) { self->on_read(ec); });
  }

  void on_read(const boost::system::error_code& ec) {
    if (ec) return fail("reading the response failed: " + ec.message());
    HttpResult result;
    const auto& res = parser_.get();
    result.status = static_cast<int>(res.result_int());
    if (auto it = res.find(http::field::retry_after); it != res.end()) {
      result.retry_after = std::string(it->value());
    }
    result.body = res.body();
    finish(std::move(result));
  }

  void fail(std::string error) {
    HttpResult result;
    result.error = std::move(error);
    finish(std::move(result));
  }

  void finish(HttpResult result) {
    if (!done_) return;
    Done done = std::move(done_);
    done_ = nullptr;
    deadline_.cancel();
    resolver_.cancel();
    boost::system::error_code ignored;
    tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
    tcp().close();
    // Run the callback after this handler returns, so it may start another exchange.
    asio::post(io_, [done = std::move(done), result = std::move(result)]() mutable {
      done(std::move(result));
    });
  }

  asio::io_context& io_;
  Stream stream_;
  tcp::resolver resolver_;
  asio::steady_timer deadline_;
  Endpoint endpoint_;
  HttpTimeouts timeouts_;
  Done done_;
  http::request<http::string_body> request_;
  http::response_parser<http::string_body> parser_;
  beast::flat_buffer buffer_;
};

}  // namespace

std::shared_ptr<HttpExchange> HttpExchange::start(asio::io_context& io, TlsContext& tls,
                                                  const Endpoint& endpoint, HttpRequestSpec request,
                                                  HttpTimeouts timeouts, Done done) {
  if (endpoint.tls) {
    using Stream = beast::ssl_stream<beast::tcp_stream>;
    auto ex = std::make_shared<Exchange<Stream>>(io, Stream(io, tls.ssl), endpoint,
                                                 std::move(request), timeouts, std::move(done));
    ex->run();
    return ex;
  }
  auto ex = std::make_shared<Exchange<beast::tcp_stream>>(
      io, beast::tcp_stream(io), endpoint, std::move(request), timeouts, std::move(done));
  ex->run();
  return ex;
}

}  // namespace dollhouse::daemon
