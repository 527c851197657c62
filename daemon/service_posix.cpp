#include <fcntl.h>
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

Result<std::optional<ActivatedSocket>> take_activated_socket() {
  auto count = activated_fd_count(process_env(), ::getpid());
  if (!count) return std::optional<ActivatedSocket>{};
  forget_activation_environment();
  const int fd = kListenFdsStart;
  if (socket_option(fd, SO_DOMAIN) != AF_UNIX || socket_option(fd, SO_TYPE) != SOCK_STREAM ||
      socket_option(fd, SO_ACCEPTCONN) != 1) {
    return Status::error("bad_socket",
                         "the service manager passed fd 3, but it is not a listening Unix "
                         "stream socket; check ListenStream= in the .socket unit");
  }
  int flags = ::fcntl(fd, F_GETFD);
  if (flags < 0 || ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC) != 0) {
    return Status::error("bad_socket", "cannot mark the passed socket close-on-exec");
  }
  ActivatedSocket passed;
  passed.fd = fd;
  sockaddr_un addr{};
  socklen_t len = sizeof(addr);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0 &&
      len > offsetof(sockaddr_un, sun_path) && addr.sun_path[0] != '\0') {
    passed.path = std::string(addr.sun_path, ::strnlen(addr.sun_path, sizeof(addr.sun_path)));
  }
  return std::optional<ActivatedSocket>(std::move(passed));
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
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::error("io_error", "cannot create the notify socket");
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
