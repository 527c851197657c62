#include <unistd.h>

#include <boost/asio/error.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include "ipc/local_transport.hpp"
#include "ipc/unix_socket.hpp"

namespace dollhouse::ipc {

namespace asio = boost::asio;
using Protocol = asio::local::stream_protocol;

struct LocalListener::Impl {
  explicit Impl(const asio::any_io_executor& executor) : acceptor(executor) {}
  Protocol::acceptor acceptor;
};

std::optional<bool> peer_is_same_user(LocalStream& stream) {
  auto uid = peer_uid(stream.native_handle());
  if (!uid) return std::nullopt;
  return *uid == ::geteuid();
}

void close_stream(LocalStream& stream) {
  boost::system::error_code ignored;
  stream.shutdown(LocalStream::shutdown_both, ignored);
  stream.close(ignored);
}

LocalListener::LocalListener(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
LocalListener::LocalListener(LocalListener&&) noexcept = default;
LocalListener& LocalListener::operator=(LocalListener&&) noexcept = default;
LocalListener::~LocalListener() = default;

Result<LocalListener> LocalListener::adopt(const asio::any_io_executor& executor, int fd) {
  auto impl = std::make_shared<Impl>(executor);
  boost::system::error_code ec;
  impl->acceptor.assign(Protocol(), fd, ec);
  if (ec) {
    ::close(fd);
    return Status::error("io_error", "cannot use the listening socket: " + ec.message());
  }
  return LocalListener(std::move(impl));
}

Result<LocalListener> LocalListener::open(const asio::any_io_executor& executor,
                                          const std::string& path) {
  auto fd = listen_unix(path, 128);
  if (!fd) return fd.status();
  return adopt(executor, *fd);
}

void LocalListener::async_accept(AcceptHandler handler) {
  impl_->acceptor.async_accept(
      [handler = std::move(handler)](const boost::system::error_code& ec, Protocol::socket s) {
        handler(ec, std::move(s));
      });
}

void LocalListener::close() {
  if (!impl_) return;
  boost::system::error_code ignored;
  impl_->acceptor.close(ignored);
}

bool client_left_before_accept(const boost::system::error_code& ec) {
  return ec == asio::error::connection_aborted || ec == asio::error::connection_reset;
}

}  // namespace dollhouse::ipc
