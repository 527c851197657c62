#include "server/http/session.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>

#include "server/http/gzip.hpp"
#include "server/http/message.hpp"
#include "server/routes/routes.hpp"

namespace dollhouse::server {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

template <typename Stream>
class Session final : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(Stream stream, ServerContext& ctx, std::shared_ptr<SessionRegistry> registry,
          bool overloaded)
      : stream_(std::move(stream)),
        ctx_(ctx),
        registry_(std::move(registry)),
        overloaded_(overloaded) {
    ctx_.counters.connections_open++;
  }

  ~Session() override {
    ctx_.counters.connections_open--;
    std::lock_guard lock(registry_->mutex);
    registry_->sessions.erase(this);
  }

  void start() {
    {
      std::lock_guard lock(registry_->mutex);
      if (registry_->stopping) return;  // the socket closes with this session
      registry_->sessions.emplace(this, this->weak_from_this());
    }
    asio::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
      if constexpr (std::is_same_v<Stream, TlsStream>) {
        beast::get_lowest_layer(self->stream_).expires_after(self->ctx_.limits.request_timeout);
        self->stream_.async_handshake(asio::ssl::stream_base::server, [self](beast::error_code ec) {
          if (ec) return;  // not TLS, or gave up: just close
          self->do_read();
        });
      } else {
        self->do_read();
      }
    });
  }

  void stop() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
      self->stop_requested_ = true;
      if (self->waiting_for_request_) beast::get_lowest_layer(self->stream_).cancel();
    });
  }

 private:
  void do_read() {
    if (stop_requested_) return close();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(ctx_.limits.max_header_bytes));
    parser_->body_limit(ctx_.limits.max_body_bytes);
    waiting_for_request_ = true;
    beast::get_lowest_layer(stream_).expires_after(ctx_.limits.idle_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                       self->on_read(ec);
                     });
  }

  void on_read(beast::error_code ec) {
    waiting_for_request_ = false;
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted) {
      return close();
    }
    drain_ = true;  // until known otherwise, unread request bytes may follow
    if (ec == http::error::body_limit) {
      return send(Response::error(
                      413, "too_large",
                      "the body exceeds " + std::to_string(ctx_.limits.max_body_bytes) + " bytes"),
                  false);
    }
    if (ec == http::error::header_limit) {
      return send(Response::error(431, "headers_too_large", "the request headers are too large"),
                  false);
    }
    if (ec) {
      if (parser_->got_some()) {
        return send(Response::error(400, "bad_request", "the request is not valid HTTP/1.1"),
                    false);
      }
      return close();
    }
    drain_ = false;
    const auto& msg = parser_->get();
    const bool keep_alive = msg.keep_alive();
    if (overloaded_) {
      ctx_.counters.overloaded++;
      Response r = Response::error(503, "overloaded", "too many connections; retry later");
      r.headers.emplace_back("Retry-After", "1");
      return send(std::move(r), false);
    }
    send(handle(msg), keep_alive);
  }

  Response handle(const http::request<http::string_body>& msg) {
    Request req;
    req.method = std::string(msg.method_string());
    // Every answer to a HEAD goes without its body, the early errors below included: a body the
    // client does not expect would be read as the start of the next response.
    head_ = req.method == "HEAD";
    if (!parse_target(std::string_view(msg.target().data(), msg.target().size()), req.path,
                      req.query)) {
      return Response::error(400, "bad_target", "the request target is not valid");
    }
    auto header = [&msg](auto field) {
      auto it = msg.find(field);
      return it == msg.end() ? std::string() : std::string(it->value());
    };
    req.content_type = header(http::field::content_type);
    req.telemetry_version = header("X-Telemetry-Version");
    req.idempotency_key = header("Idempotency-Key");
    req.authorization = header("Authorization");
    const std::string encoding = header(http::field::content_encoding);
    if (encoding.empty() || beast::iequals(encoding, "identity")) {
      req.body = msg.body();
    } else if (beast::iequals(encoding, "gzip") || beast::iequals(encoding, "x-gzip")) {
      auto inflated = inflate_gzip(msg.body(), ctx_.limits.max_body_bytes);
      if (!inflated) {
        const bool too_large = inflated.status().code() == kInflateTooLarge;
        return Response::error(too_large ? 413 : 400, too_large ? "too_large" : "bad_encoding",
                               inflated.status().message());
      }
      req.body = std::move(*inflated);
    } else {
      Response r = Response::error(415, "unsupported_encoding", "use gzip or no encoding");
      r.headers.emplace_back("Accept-Encoding", "gzip");
      return r;
    }
    return route(ctx_, req);
  }

  void send(Response r, bool keep_alive) {
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(r.status), 11);
    res->set(http::field::server, "dollhouse-telemetry-server");
    if (!r.content_type.empty()) res->set(http::field::content_type, r.content_type);
    res->set("X-Content-Type-Options", "nosniff");
    res->set("Referrer-Policy", "no-referrer");
    for (const auto& [name, value] : r.headers) res->set(name, value);
    res->body() = std::move(r.body);
    res->keep_alive(keep_alive && !r.close && !stop_requested_);
    res->prepare_payload();
    if (head_) res->body().clear();
    head_ = false;
    beast::get_lowest_layer(stream_).expires_after(ctx_.limits.request_timeout);
    http::async_write(stream_, *res,
                      [self = this->shared_from_this(), res](beast::error_code ec, std::size_t) {
                        if (!ec && self->drain_) return self->lingering_close();
                        if (ec || !res->keep_alive()) return self->close();
                        self->do_read();
                      });
  }

  // After answering a request we did not read to its end (too large, malformed): stop sending,
  // then read and discard what the client still sends, for a short while, so that it sees our
  // answer instead of a connection reset.
  void lingering_close() {
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      close();
    } else {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      stream_.expires_after(std::chrono::seconds(2));
      discard_more();
    }
  }

  void discard_more() {
    if constexpr (!std::is_same_v<Stream, TlsStream>) {
      scratch_.resize(64 * 1024);
      stream_.async_read_some(asio::buffer(scratch_), [self = this->shared_from_this()](
                                                          beast::error_code ec, std::size_t n) {
        self->discarded_ += n;
        if (ec || self->discarded_ > kMaxDiscard) return self->close();
        self->discard_more();
      });
    }
  }

  void close() {
    beast::error_code ignored;
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {
        beast::error_code ignored2;
        beast::get_lowest_layer(self->stream_).socket().close(ignored2);
      });
    } else {
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      stream_.socket().close(ignored);
    }
  }

  Stream stream_;
  ServerContext& ctx_;
  std::shared_ptr<SessionRegistry> registry_;
  const bool overloaded_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool waiting_for_request_ = false;
  bool stop_requested_ = false;
  bool head_ = false;
  bool drain_ = false;
  std::string scratch_;
  std::size_t discarded_ = 0;
  static constexpr std::size_t kMaxDiscard = 16 << 20;
};

}  // namespace

void start_session(tcp::socket socket, ServerContext& ctx, asio::ssl::context* tls,
                   std::shared_ptr<SessionRegistry> registry, bool overloaded) {
  if (tls) {
    std::make_shared<Session<TlsStream>>(TlsStream(std::move(socket), *tls), ctx,
                                         std::move(registry), overloaded)
        ->start();
  } else {
    std::make_shared<Session<PlainStream>>(PlainStream(std::move(socket)), ctx, std::move(registry),
                                           overloaded)
        ->start();
  }
}

}  // namespace dollhouse::server
