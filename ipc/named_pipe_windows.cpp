// The local transport on Windows: named pipes with overlapped I/O.
#include <windows.h>

#include <aclapi.h>
#include <sddl.h>

#include <algorithm>
#include <filesystem>
#include <optional>

#include <boost/asio/post.hpp>
#include <boost/asio/windows/overlapped_ptr.hpp>

#include "common/win32.hpp"
#include "ipc/line_connection.hpp"
#include "ipc/local_transport.hpp"
#include "ipc/named_pipe.hpp"
#include "ipc/private_directory.hpp"

namespace dollhouse::ipc {

namespace asio = boost::asio;
using win32::error_text;
using win32::widen;

namespace {

bool is_pipe_name(const std::string& name) {
  return name.rfind("\\\\.\\pipe\\", 0) == 0 && name.size() > 9;
}

DWORD wait_ms(Deadline deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) return 0;
  return static_cast<DWORD>(std::min<long long>(left.count(), 0x7fffffff));
}

bool is_disconnect(DWORD err) {
  return err == ERROR_BROKEN_PIPE || err == ERROR_NO_DATA || err == ERROR_PIPE_NOT_CONNECTED ||
         err == ERROR_HANDLE_EOF;
}

// One overlapped ReadFile or WriteFile, waited for until the deadline. On timeout the call is
// cancelled and its cancellation awaited, so `buffer` is never written after this returns; a
// transfer that completed while being cancelled is kept. Returns the bytes moved, or an error
// with code "timeout", "closed" or "io_error".
Result<DWORD> transfer(HANDLE pipe, HANDLE event, bool write, void* buffer, DWORD size,
                       Deadline deadline) {
  OVERLAPPED ov{};
  ov.hEvent = event;
  ::ResetEvent(event);
  BOOL ok = write ? ::WriteFile(pipe, buffer, size, nullptr, &ov)
                  : ::ReadFile(pipe, buffer, size, nullptr, &ov);
  DWORD err = ok ? ERROR_SUCCESS : ::GetLastError();
  if (!ok && err != ERROR_IO_PENDING) {
    if (is_disconnect(err)) return Status::error("closed", "the daemon closed the connection");
    return Status::error("io_error", error_text(err));
  }
  bool timed_out = false;
  if (!ok && ::WaitForSingleObject(event, wait_ms(deadline)) == WAIT_TIMEOUT) {
    timed_out = true;
    ::CancelIoEx(pipe, &ov);
  }
  DWORD moved = 0;
  if (!::GetOverlappedResult(pipe, &ov, &moved, TRUE)) {
    err = ::GetLastError();
    if (err == ERROR_OPERATION_ABORTED && timed_out) {
      return Status::error("timeout", write ? "timed out writing to the daemon"
                                            : "timed out waiting for the daemon's reply");
    }
    if (is_disconnect(err)) return Status::error("closed", "the daemon closed the connection");
    return Status::error("io_error", error_text(err));
  }
  return moved;
}

}  // namespace

// ---- private directories ------------------------------------------------------------------

Status prepare_private_directory(const std::string& dir) {
  if (dir.empty()) return Status::error("invalid_path", "empty directory path");
  const std::filesystem::path path(widen(dir));
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) return Status::error("io_error", "cannot create " + dir + ": " + ec.message());
  // A new directory is created owned by this user, with its access list: this user only,
  // inherited by what is created inside, nothing inherited from above. An existing directory is
  // left as it is (rewriting it would rewrite the inherited entries of everything below it),
  // but it must belong to this user.
  auto security = win32::UserOnlySecurity::create(win32::UserOnlySecurity::Inherit::kToChildren);
  if (!security) return security.status();
  if (::CreateDirectoryW(path.c_str(), security->attributes())) return Status::ok();
  DWORD err = ::GetLastError();
  if (err != ERROR_ALREADY_EXISTS) {
    return Status::error("io_error", "cannot create " + dir + ": " + error_text(err));
  }
  DWORD attributes_now = ::GetFileAttributesW(path.c_str());
  if (attributes_now == INVALID_FILE_ATTRIBUTES || !(attributes_now & FILE_ATTRIBUTE_DIRECTORY) ||
      (attributes_now & FILE_ATTRIBUTE_REPARSE_POINT)) {
    return Status::error("insecure_path", dir +
                                              " is not a directory (a link or a file); remove "
                                              "it or choose another path");
  }
  PSID owner = nullptr;
  PSECURITY_DESCRIPTOR existing = nullptr;
  std::wstring wide = path.wstring();
  err = ::GetNamedSecurityInfoW(wide.data(), SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION, &owner,
                                nullptr, nullptr, nullptr, &existing);
  if (err != ERROR_SUCCESS) {
    return Status::error("io_error", "cannot inspect " + dir + ": " + error_text(err));
  }
  wchar_t* owner_text = nullptr;
  std::string owner_sid;
  if (owner != nullptr && ::ConvertSidToStringSidW(owner, &owner_text)) {
    owner_sid = win32::narrow(owner_text);
    ::LocalFree(owner_text);
  }
  ::LocalFree(existing);
  if (owner_sid != security->sid()) {
    return Status::error("insecure_path",
                         dir + " belongs to another user; choose a directory of your own");
  }
  return Status::ok();
}

// ---- pipe instances ----------------------------------------------------------------------

Result<void*> create_pipe_instance(const std::string& name, bool first) {
  if (!is_pipe_name(name)) {
    return Status::error("invalid_path", "not a local pipe name (\\\\.\\pipe\\...): " + name);
  }
  auto security = win32::UserOnlySecurity::create();
  if (!security) return security.status();
  DWORD open_mode = PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED;
  if (first) open_mode |= FILE_FLAG_FIRST_PIPE_INSTANCE;
  HANDLE pipe = ::CreateNamedPipeW(
      widen(name).c_str(), open_mode,
      PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS,
      PIPE_UNLIMITED_INSTANCES, kPipeBufferBytes, kPipeBufferBytes, 0, security->attributes());
  if (pipe == INVALID_HANDLE_VALUE) {
    DWORD err = ::GetLastError();
    if (err == ERROR_ACCESS_DENIED || err == ERROR_PIPE_BUSY) {
      return Status::error("in_use", name +
                                         " is already held by another process (another "
                                         "daemon, or someone else's pipe); refusing to listen");
    }
    return Status::error("io_error", "cannot create " + name + ": " + error_text(err));
  }
  return static_cast<void*>(pipe);
}

// ---- server side ---------------------------------------------------------------------------

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

// ---- client side ---------------------------------------------------------------------------

LineConnection::LineConnection(void* pipe) : pipe_(pipe) {
  event_ = ::CreateEventW(nullptr, TRUE, FALSE, nullptr);
}

LineConnection::~LineConnection() {
  close();
}

LineConnection::LineConnection(LineConnection&& other) noexcept
    : framer_(std::move(other.framer_)), pipe_(other.pipe_), event_(other.event_) {
  other.pipe_ = nullptr;
  other.event_ = nullptr;
}

LineConnection& LineConnection::operator=(LineConnection&& other) noexcept {
  if (this != &other) {
    close();
    framer_ = std::move(other.framer_);
    pipe_ = other.pipe_;
    event_ = other.event_;
    other.pipe_ = nullptr;
    other.event_ = nullptr;
  }
  return *this;
}

bool LineConnection::is_open() const {
  return pipe_ != nullptr;
}

void LineConnection::close() {
  if (pipe_ != nullptr) ::CloseHandle(static_cast<HANDLE>(pipe_));
  if (event_ != nullptr) ::CloseHandle(static_cast<HANDLE>(event_));
  pipe_ = nullptr;
  event_ = nullptr;
}

Result<LineConnection> LineConnection::connect(const std::string& path, Deadline deadline) {
  if (!is_pipe_name(path)) {
    return Status::error("invalid_path", "not a local pipe name (\\\\.\\pipe\\...): " + path);
  }
  const std::wstring name = widen(path);
  while (true) {
    // SECURITY_IDENTIFICATION: the server may learn who we are, never act as us.
    HANDLE pipe = ::CreateFileW(
        name.c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING,
        FILE_FLAG_OVERLAPPED | SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION, nullptr);
    if (pipe != INVALID_HANDLE_VALUE) {
      LineConnection conn(pipe);
      if (conn.event_ == nullptr) return Status::error("io_error", error_text(::GetLastError()));
      // Talk only to a daemon of our own: a pipe held by another user is a squatter.
      ULONG server_pid = 0;
      std::optional<bool> same = std::nullopt;
      if (::GetNamedPipeServerProcessId(pipe, &server_pid)) {
        same = win32::process_runs_as_current_user(server_pid);
      }
      if (!same.value_or(false)) {
        return Status::error("untrusted", "the process serving " + path +
                                              " does not run as this user; refusing to talk "
                                              "to it");
      }
      return conn;
    }
    DWORD err = ::GetLastError();
    if (err == ERROR_FILE_NOT_FOUND || err == ERROR_PATH_NOT_FOUND) {
      return Status::error("unreachable", "no daemon is listening at " + path);
    }
    if (err == ERROR_ACCESS_DENIED) {
      return Status::error("unreachable", "no permission to connect to " + path);
    }
    if (err != ERROR_PIPE_BUSY) {
      return Status::error("io_error", "cannot open " + path + ": " + error_text(err));
    }
    // Every instance is busy: wait for one, at most until the deadline.
    DWORD left = wait_ms(deadline);
    if (left == 0) return Status::error("timeout", "timed out connecting to " + path);
    ::WaitNamedPipeW(name.c_str(), std::min<DWORD>(left, 50));
  }
}

Status LineConnection::send(std::string_view line, Deadline deadline) {
  if (pipe_ == nullptr) return Status::error("closed", "connection is closed");
  std::size_t done = 0;
  while (done < line.size()) {
    DWORD chunk = static_cast<DWORD>(std::min<std::size_t>(line.size() - done, 1 << 20));
    auto moved = transfer(static_cast<HANDLE>(pipe_), static_cast<HANDLE>(event_), true,
                          const_cast<char*>(line.data() + done), chunk, deadline);
    if (!moved) return moved.status();
    done += *moved;
  }
  return Status::ok();
}

Result<std::string> LineConnection::read_line(Deadline deadline) {
  if (pipe_ == nullptr) return Status::error("closed", "connection is closed");
  char buf[16384];
  while (true) {
    if (auto frame = framer_.next()) {
      if (frame->oversize) return Status::error("io_error", "reply line too long");
      return std::move(frame->line);
    }
    auto moved = transfer(static_cast<HANDLE>(pipe_), static_cast<HANDLE>(event_), false, buf,
                          sizeof buf, deadline);
    if (!moved) return moved.status();
    framer_.feed(std::string_view(buf, *moved));
  }
}

}  // namespace dollhouse::ipc
