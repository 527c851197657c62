#include "server/http/http_server.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <vector>

#include "server/http/session.hpp"

namespace dollhouse::server {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
// After a failed accept (no descriptors left), how long the listener waits before accepting
// again; connections meanwhile wait in the listen backlog.
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};
}  // namespace

struct HttpServer::Impl {
  Impl(ServerContext& c, asio::io_context& i, asio::ssl::context* t)
      : ctx(c),
        ioc(i),
        tls(t),
        acceptor(asio::make_strand(i)),
        retry_timer(acceptor.get_executor()) {}

  void do_accept() {
    acceptor.async_accept(asio::make_strand(ioc), [this](boost::system::error_code ec,
                                                         tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
      if (ec) {
        // EMFILE and friends: the pending connection stays queued and accept fails again at
        // once, so pause before the next try instead of spinning (and logging) at full speed.
        spdlog::warn("accept failed: {}; accepting again in {} ms", ec.message(),
                     kAcceptRetryDelay.count());
        retry_timer.expires_after(kAcceptRetryDelay);
        retry_timer.async_wait([this](boost::system::error_code wait_ec) {
          if (!wait_ec && acceptor.is_open()) do_accept();
        });
        return;
      }
      const bool overloaded = ctx.counters.connections_open.load() >= ctx.limits.max_connections;
      start_session(std::move(socket), ctx, tls, registry, overloaded);
      do_accept();
    });
  }

  ServerContext& ctx;
  asio::io_context& ioc;
  asio::ssl::context* tls;
  tcp::acceptor acceptor;
  asio::steady_timer retry_timer;  // on the acceptor's strand
  std::shared_ptr<SessionRegistry> registry = std::make_shared<SessionRegistry>();
};

HttpServer::HttpServer(ServerContext& ctx, asio::io_context& ioc, asio::ssl::context* tls)
    : impl_(std::make_unique<Impl>(ctx, ioc, tls)) {}

HttpServer::~HttpServer() = default;

Status HttpServer::listen(const std::string& host, std::uint16_t port) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return Status::error("usage", "--listen: '" + host + "' is not an IP address");
  tcp::endpoint endpoint(address, port);
  auto& acc = impl_->acceptor;
  acc.open(endpoint.protocol(), ec);
  if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(endpoint, ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::error(
        "io_error", "cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message());
  }
  port_ = acc.local_endpoint().port();
  return Status::ok();
}

void HttpServer::start() {
  asio::dispatch(impl_->acceptor.get_executor(), [this] { impl_->do_accept(); });
}

void HttpServer::shutdown() {
  asio::dispatch(impl_->acceptor.get_executor(), [this] {
    boost::system::error_code ignored;
    impl_->acceptor.close(ignored);
    impl_->retry_timer.cancel();
  });
  std::vector<std::shared_ptr<SessionBase>> live;
  {
    std::lock_guard lock(impl_->registry->mutex);
    impl_->registry->stopping = true;
    for (auto& [raw, weak] : impl_->registry->sessions) {
      if (auto s = weak.lock()) live.push_back(std::move(s));
    }
  }
  for (auto& s : live) s->stop();
}

Result<std::shared_ptr<asio::ssl::context>> make_tls_context(const std::string& cert_file,
                                                             const std::string& key_file) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  boost::system::error_code ec;
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use,
                   ec);
  if (!ec) ctx->use_certificate_chain_file(cert_file, ec);
  if (ec) return Status::error("usage", "--tls-cert " + cert_file + ": " + ec.message());
  ctx->use_private_key_file(key_file, asio::ssl::context::pem, ec);
  if (ec) return Status::error("usage", "--tls-key " + key_file + ": " + ec.message());
  return ctx;
}

}  // namespace dollhouse::server
