#include <fcntl.h>
#ifdef __APPLE__
#include <launch.h>
#endif
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "daemon/service.hpp"

namespace dollhouse::daemon {

namespace {

std::optional<long long> parse_positive(const std::optional<std::string>& text) {
  if (!text || text->empty()) return std::nullopt;
  long long value = 0;
  const char* end = text->data() + text->size();
  auto [ptr, ec] = std::from_chars(text->data(), end, value);
  if (ec != std::errc() || ptr != end || value <= 0) return std::nullopt;
  return value;
}

int socket_option(int fd, int option) {
  int value = 0;
  socklen_t len = sizeof(value);
  if (::getsockopt(fd, SOL_SOCKET, option, &value, &len) != 0) return -1;
  return value;
}

void forget_activation_environment() {
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");
}

}  // namespace

std::optional<int> activated_fd_count(const EnvLookup& env, pid_t self) {
  auto pid = parse_positive(env("LISTEN_PID"));
  auto fds = parse_positive(env("LISTEN_FDS"));
  if (!pid || !fds || *pid != static_cast<long long>(self)) return std::nullopt;
  if (*fds > 4096) return std::nullopt;  // not something a service manager sends
  return static_cast<int>(*fds);
}

namespace {

// Checks that `fd` is a listening Unix stream socket, marks it close-on-exec and reads its path.
Result<ActivatedSocket> adopt_listening_socket(int fd, const char* source) {
  sockaddr_un addr{};
  socklen_t len = sizeof(addr);
  const bool is_unix = ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0 &&
                       addr.sun_family == AF_UNIX;
  if (!is_unix || socket_option(fd, SO_TYPE) != SOCK_STREAM ||
      socket_option(fd, SO_ACCEPTCONN) != 1) {
    return Status::error("bad_socket", std::string("the service manager passed a descriptor (") +
                                           source +
                                           "), but it is not a listening Unix stream socket; "
                                           "check the socket settings of the unit or job");
  }
  int flags = ::fcntl(fd, F_GETFD);
  if (flags < 0 || ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC) != 0) {
    return Status::error("bad_socket", "cannot mark the passed socket close-on-exec");
  }
  ActivatedSocket passed;
  passed.fd = fd;
  if (len > offsetof(sockaddr_un, sun_path) && addr.sun_path[0] != '\0') {
    passed.path = std::string(addr.sun_path, ::strnlen(addr.sun_path, sizeof(addr.sun_path)));
  }
  return passed;
}

}  // namespace

Result<std::optional<ActivatedSocket>> take_activated_socket() {
#ifdef __APPLE__
  // launchd: the socket of the job's Sockets entry "Listeners" (launchd/*.plist.in). ESRCH: not
  // started by launchd; ENOENT: the job has no such socket. Both mean "create our own".
  int* fds = nullptr;
  size_t count = 0;
  int rc = ::launch_activate_socket("Listeners", &fds, &count);
  if (rc == ESRCH || rc == ENOENT) return std::optional<ActivatedSocket>{};
  if (rc != 0 || count == 0) {
    std::free(fds);
    return Status::error("bad_socket",
                         std::string("launch_activate_socket failed: ") + std::strerror(rc));
  }
  for (size_t i = 1; i < count; ++i) ::close(fds[i]);
  int fd = fds[0];
  std::free(fds);
  auto passed = adopt_listening_socket(fd, "launchd socket \"Listeners\"");
#else
  auto count = activated_fd_count(process_env(), ::getpid());
  if (!count) return std::optional<ActivatedSocket>{};
  forget_activation_environment();
  auto passed = adopt_listening_socket(kListenFdsStart, "fd 3, LISTEN_FDS");
#endif
  if (!passed) return passed.status();
  return std::optional<ActivatedSocket>(std::move(*passed));
}

std::optional<NotifyAddress> parse_notify_socket(std::string_view value) {
  if (value.size() < 2) return std::nullopt;
  if (value.front() != '/' && value.front() != '@') return std::nullopt;
  if (value.size() > sizeof(sockaddr_un{}.sun_path) - (value.front() == '/' ? 1 : 0)) {
    return std::nullopt;
  }
  NotifyAddress address{std::string(value)};
  if (value.front() == '@') address.sun_path[0] = '\0';
  return address;
}

Status notify_service_manager(std::string_view state, const EnvLookup& env) {
  auto value = env("NOTIFY_SOCKET");
  if (!value || value->empty()) return Status::ok();
  auto address = parse_notify_socket(*value);
  if (!address) return Status::error("bad_notify_socket", "NOTIFY_SOCKET is not usable: " + *value);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, address->sun_path.data(), address->sun_path.size());
  const auto len =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address->sun_path.size());
#ifdef SOCK_CLOEXEC
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
#else
  int fd = ::socket(AF_UNIX, SOCK_DGRAM, 0);
#endif
  if (fd < 0) return Status::error("io_error", "cannot create the notify socket");
#ifndef MSG_NOSIGNAL
  constexpr int MSG_NOSIGNAL = 0;  // SIGPIPE is ignored by the daemon anyway
#endif
  ssize_t sent = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                          reinterpret_cast<const sockaddr*>(&addr), len);
  int err = errno;
  ::close(fd);
  if (sent != static_cast<ssize_t>(state.size())) {
    return Status::error(
        "io_error", "cannot notify the service manager at " + *value + ": " + std::strerror(err));
  }
  return Status::ok();
}

}  // namespace dollhouse::daemon
