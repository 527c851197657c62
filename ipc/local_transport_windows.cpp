// The daemon's side of the local transport on Windows: a listener that keeps one named pipe
// instance waiting for the next client.
#include <windows.h>

#include <optional>

#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/windows/overlapped_ptr.hpp>

#include "common/win32.hpp"
#include "ipc/line_connection.hpp"
#include "ipc/local_transport.hpp"
#include "ipc/named_pipe.hpp"

namespace dollhouse::ipc {

namespace asio = boost::asio;

struct LocalListener::Impl {
  Impl(const asio::any_io_executor& e, std::string n) : executor(e), name(std::move(n)) {}

  // Creates the instance the next client connects to; false when the system refuses.
  bool make_instance(bool first = false) {
    auto pipe = create_pipe_instance(name, first);
    if (!pipe) return false;
    boost::system::error_code ec;
    pending.emplace(executor);
    pending->assign(static_cast<HANDLE>(*pipe), ec);
    if (ec) {
      ::CloseHandle(static_cast<HANDLE>(*pipe));
      pending.reset();
      return false;
    }
    return true;
  }

  asio::any_io_executor executor;
  std::string name;
  std::optional<LocalStream> pending;  // the instance a client connects to next
  bool closed = false;
};

std::optional<bool> peer_is_same_user(LocalStream& stream) {
  ULONG pid = 0;
  if (!::GetNamedPipeClientProcessId(stream.native_handle(), &pid)) return std::nullopt;
  return win32::process_runs_as_current_user(pid);
}

void close_stream(LocalStream& stream) {
  boost::system::error_code ignored;
  stream.close(ignored);
}

LocalListener::LocalListener(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
LocalListener::LocalListener(LocalListener&&) noexcept = default;
LocalListener& LocalListener::operator=(LocalListener&&) noexcept = default;
LocalListener::~LocalListener() = default;

Result<LocalListener> LocalListener::open(const asio::any_io_executor& executor,
                                          const std::string& path) {
  if (!is_pipe_name(path)) {
    return Status::error("invalid_path", "not a local pipe name (\\\\.\\pipe\\...): " + path);
  }
  // A daemon already serving the name answers; FILE_FLAG_FIRST_PIPE_INSTANCE below also
  // refuses any other holder of the name, atomically.
  auto probe =
      LineConnection::connect(path, std::chrono::steady_clock::now() + std::chrono::seconds(1));
  if (probe || probe.status().code() == "untrusted") {
    return Status::error("in_use", "another dollhouse-telemetryd is already listening at " + path +
                                       "; stop it first");
  }
  auto pipe = create_pipe_instance(path, /*first=*/true);
  if (!pipe) return pipe.status();
  auto impl = std::make_shared<Impl>(executor, path);
  boost::system::error_code ec;
  impl->pending.emplace(executor);
  impl->pending->assign(static_cast<HANDLE>(*pipe), ec);
  if (ec) {
    ::CloseHandle(static_cast<HANDLE>(*pipe));
    return Status::error("io_error", "cannot watch " + path + ": " + ec.message());
  }
  return LocalListener(std::move(impl));
}

Result<LocalListener> LocalListener::adopt(const asio::any_io_executor&, int) {
  return Status::error("unsupported",
                       "socket activation is not available on Windows: the daemon creates its "
                       "named pipe itself");
}

void LocalListener::async_accept(AcceptHandler handler) {
  auto impl = impl_;
  auto fail = [impl, &handler](const boost::system::error_code& ec) {
    asio::post(impl->executor, [impl, ec, handler = std::move(handler)] {
      handler(ec, LocalStream(impl->executor));
    });
  };
  if (impl->closed) return fail(asio::error::operation_aborted);
  if (!impl->pending && !impl->make_instance()) return fail(asio::error::no_descriptors);
  asio::windows::overlapped_ptr op(
      impl->pending->get_executor(),
      [impl, handler = std::move(handler)](boost::system::error_code ec, std::size_t) mutable {
        LocalStream stream = std::move(*impl->pending);
        impl->pending.reset();
        if (impl->closed) {
          close_stream(stream);
          ec = asio::error::operation_aborted;
        } else {
          // The next instance exists before this one is handed out, so the name is never
          // free for someone else to take between two clients.
          impl->make_instance();
        }
        handler(ec, std::move(stream));
      });
  BOOL connected = ::ConnectNamedPipe(impl->pending->native_handle(), op.get());
  DWORD err = connected ? ERROR_SUCCESS : ::GetLastError();
  if (connected || err == ERROR_IO_PENDING) {
    op.release();  // completes through the io_context (a TRUE return still queues a packet)
  } else if (err == ERROR_PIPE_CONNECTED) {
    op.complete(boost::system::error_code(), 0);  // a client came between create and connect
  } else {
    op.complete(
        boost::system::error_code(static_cast<int>(err), asio::error::get_system_category()), 0);
  }
}

void LocalListener::close() {
  if (!impl_ || impl_->closed) return;
  impl_->closed = true;
  // Closing the waiting instance completes its ConnectNamedPipe; the handler reports aborted.
  if (impl_->pending) {
    boost::system::error_code ignored;
    impl_->pending->close(ignored);
  }
}

bool client_left_before_accept(const boost::system::error_code& ec) {
  if (ec == asio::error::connection_aborted || ec == asio::error::connection_reset) return true;
  // The pipe client closed its end between connecting and the accept completing.
  return ec.category() == asio::error::get_system_category() &&
         (ec.value() == static_cast<int>(ERROR_NO_DATA) ||
          ec.value() == static_cast<int>(ERROR_PIPE_NOT_CONNECTED));
}

}  // namespace dollhouse::ipc
