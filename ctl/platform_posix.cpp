#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __APPLE__
#include <mach-o/dyld.h>
#endif

#include <cerrno>
#include <csignal>
#include <cstdint>

#include "ctl/platform.hpp"

namespace dollhouse::ctl::platform {

std::string own_directory() {
  std::vector<char> buf(4096);
#ifdef __APPLE__
  auto size = static_cast<std::uint32_t>(buf.size());
  if (::_NSGetExecutablePath(buf.data(), &size) != 0) return "";
  std::string self(buf.data());
#else
  ssize_t n = ::readlink("/proc/self/exe", buf.data(), buf.size() - 1);
  if (n <= 0) return "";
  std::string self(buf.data(), static_cast<std::size_t>(n));
#endif
  auto slash = self.rfind('/');
  return slash == std::string::npos ? "" : self.substr(0, slash);
}

std::string program_file(const std::string& name) {
  return name;
}

bool is_executable(const std::string& path) {
  return ::access(path.c_str(), X_OK) == 0;
}

std::string join_path(const std::string& dir, const std::string& name) {
  return dir + "/" + name;
}

Status spawn_detached(const std::vector<std::string>& args) {
  pid_t child = ::fork();
  if (child < 0) return Status::error("io_error", "cannot start the daemon: fork failed");
  if (child == 0) {
    // Detach twice so the daemon outlives dollhousectl and is never its zombie.
    ::setsid();
    if (::fork() != 0) ::_exit(0);
    int devnull = ::open("/dev/null", O_RDWR);
    if (devnull >= 0) {
      ::dup2(devnull, 0);
      ::dup2(devnull, 1);
      ::dup2(devnull, 2);
    }
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  return Status::ok();
}

CommandOutput run_command(const std::vector<std::string>& args) {
  CommandOutput result;
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) return result;
  ::fcntl(pipe_fds[0], F_SETFD, FD_CLOEXEC);
  ::fcntl(pipe_fds[1], F_SETFD, FD_CLOEXEC);
  pid_t child = ::fork();
  if (child < 0) {
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    return result;
  }
  if (child == 0) {
    ::dup2(pipe_fds[1], 1);
    ::dup2(pipe_fds[1], 2);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  char buf[4096];
  ssize_t n = 0;
  while ((n = ::read(pipe_fds[0], buf, sizeof(buf))) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    result.text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(pipe_fds[0]);
  int wait_status = 0;
  while (::waitpid(child, &wait_status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code =
      WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
  return result;
}

bool stdin_is_terminal() {
  return ::isatty(STDIN_FILENO) == 1;
}

void ignore_broken_pipe() {
  std::signal(SIGPIPE, SIG_IGN);
}

}  // namespace dollhouse::ctl::platform
