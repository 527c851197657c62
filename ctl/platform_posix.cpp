#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __APPLE__
#include <mach-o/dyld.h>
#endif

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <thread>

#include "ctl/platform.hpp"

extern char** environ;  // POSIX: the process environment; declared by no standard header

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

namespace {

// A descriptor at 3 or above with close-on-exec set: the child's 0, 1 and 2 are assigned with
// dup2, which must never find one of ours there (a dollhousectl started with a closed stdin
// would otherwise get its /dev/null or pipe at 0).
int private_descriptor(int fd) {
  if (fd < 0) return fd;
  if (fd < 3) {
    int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
    ::close(fd);
    return moved;
  }
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  return fd;
}

bool private_pipe(int fds[2]) {
  if (::pipe(fds) != 0) return false;
  fds[0] = private_descriptor(fds[0]);
  fds[1] = private_descriptor(fds[1]);
  if (fds[0] >= 0 && fds[1] >= 0) return true;
  if (fds[0] >= 0) ::close(fds[0]);
  if (fds[1] >= 0) ::close(fds[1]);
  return false;
}

void close_quietly(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// In the child between fork and exec (async-signal-safe calls only): closes every descriptor from
// `first` up, so that the daemon holds none of its caller's pipes open (a shell waiting for
// dollhousectl's output, a build tool's job slots).
void close_descriptors_from(int first) {
#if defined(__linux__) && defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 34)
  if (::close_range(static_cast<unsigned>(first), ~0U, 0) == 0) return;
#endif
  long limit = ::sysconf(_SC_OPEN_MAX);
  if (limit < 0 || limit > 65536) limit = 65536;
  for (int fd = first; fd < limit; ++fd) ::close(fd);
}

bool is_regular_executable(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && is_executable(path);
}

// `name` looked up in PATH, "" when it is in none of its directories. Empty entries (which
// execvp reads as the current directory) are skipped: a daemon is never started from wherever
// the user happens to stand.
std::string find_on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    std::size_t colon = dirs.find(':', start);
    if (colon == std::string::npos) colon = dirs.size();
    std::string dir = dirs.substr(start, colon - start);
    if (!dir.empty()) {
      std::string candidate = join_path(dir, name);
      if (is_regular_executable(candidate)) return candidate;
    }
    start = colon + 1;
  }
  return {};
}

// This process's environment as NAME=value strings, without the variables in `remove`.
std::vector<std::string> environment_without(const std::vector<std::string>& remove) {
  std::vector<std::string> out;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    std::string_view name = text.substr(0, text.find('='));
    if (std::find(remove.begin(), remove.end(), name) != remove.end()) continue;
    out.emplace_back(text);
  }
  return out;
}

constexpr std::size_t kKeptStderr = 64 * 1024;

}  // namespace

struct SpawnedProcess::State {
  pid_t pid = -1;
  int stderr_fd = -1;  // read end, non-blocking; -1 once released or at end of file
  std::optional<ProcessEnd> end;
  std::string text;

  ~State() { close_quietly(stderr_fd); }

  // Takes what the pipe holds now, without blocking.
  void drain() {
    char buf[4096];
    while (stderr_fd >= 0) {
      ssize_t n = ::read(stderr_fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (n <= 0) {
        close_quietly(stderr_fd);
        return;
      }
      text.append(buf, static_cast<std::size_t>(n));
      if (text.size() > kKeptStderr) text.erase(0, text.size() - kKeptStderr);
    }
  }
};

SpawnedProcess::SpawnedProcess(std::unique_ptr<State> state) : state_(std::move(state)) {}
SpawnedProcess::SpawnedProcess(SpawnedProcess&&) noexcept = default;
SpawnedProcess& SpawnedProcess::operator=(SpawnedProcess&&) noexcept = default;
SpawnedProcess::~SpawnedProcess() = default;

void SpawnedProcess::wait(std::chrono::milliseconds timeout) {
  State& s = *state_;
  if (s.end) return;
  if (s.stderr_fd < 0) {
    // Nothing to poll: look at the process again shortly.
    std::this_thread::sleep_for(std::min(timeout, std::chrono::milliseconds(10)));
    return;
  }
  pollfd p{s.stderr_fd, POLLIN, 0};
  int rc = ::poll(&p, 1, static_cast<int>(std::max<std::int64_t>(timeout.count(), 0)));
  if (rc > 0) s.drain();
}

std::optional<ProcessEnd> SpawnedProcess::exited() {
  State& s = *state_;
  if (s.end) return s.end;
  int status = 0;
  pid_t r = 0;
  do {
    r = ::waitpid(s.pid, &status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == 0) return std::nullopt;
  if (r == s.pid) {
    s.end = WIFSIGNALED(status) ? ProcessEnd{128 + WTERMSIG(status), WTERMSIG(status)}
                                : ProcessEnd{WEXITSTATUS(status), 0};
  } else {
    s.end = ProcessEnd{-1, 0};  // reaped elsewhere: it ended, how is unknown
  }
  // A process that ended has written everything it will; take the rest.
  s.drain();
  return s.end;
}

const std::string& SpawnedProcess::stderr_text() const {
  return state_->text;
}

void SpawnedProcess::release() {
  close_quietly(state_->stderr_fd);
}

Result<SpawnedProcess> spawn_daemon(const std::vector<std::string>& args,
                                    const std::vector<std::string>& env_to_remove) {
  if (args.empty()) return Status::error(kCannotRun, "cannot run the daemon: no program named");
  std::string program = args.front();
  if (program.find('/') == std::string::npos) {
    std::string found = find_on_path(program);
    if (found.empty()) {
      return Status::error(kCannotRun, "cannot run " + program + ": not found on PATH");
    }
    program = found;
  }
  // Everything the child needs is made here: between fork and exec it may only make
  // async-signal-safe calls.
  std::vector<std::string> env = environment_without(env_to_remove);
  std::vector<char*> argv, envp;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  int devnull = private_descriptor(::open("/dev/null", O_RDWR));
  int stderr_pipe[2] = {-1, -1};
  int exec_pipe[2] = {-1, -1};  // carries execve's errno; closed by a successful exec
  if (devnull < 0 || !private_pipe(stderr_pipe) || !private_pipe(exec_pipe)) {
    int e = errno;
    close_quietly(devnull);
    for (int& fd : stderr_pipe) close_quietly(fd);
    return Status::error("io_error", std::string("cannot start the daemon: ") + std::strerror(e));
  }
  // waitpid must see the child: a caller that ignores SIGCHLD would have it reaped unseen.
  std::signal(SIGCHLD, SIG_DFL);
  pid_t child = ::fork();
  if (child < 0) {
    int e = errno;
    close_quietly(devnull);
    for (int& fd : stderr_pipe) close_quietly(fd);
    for (int& fd : exec_pipe) close_quietly(fd);
    return Status::error("io_error",
                         std::string("cannot start the daemon: fork: ") + std::strerror(e));
  }
  if (child == 0) {
    // A session of its own: no controlling terminal, and a Ctrl+C or hang-up that reaches
    // dollhousectl's terminal does not reach the daemon. dollhousectl exits soon after; the
    // daemon is then adopted (and eventually reaped) by init.
    ::setsid();
    ::dup2(devnull, 0);
    ::dup2(devnull, 1);
    ::dup2(stderr_pipe[1], 2);
    if (exec_pipe[1] != 3) ::dup2(exec_pipe[1], 3);
    ::fcntl(3, F_SETFD, FD_CLOEXEC);
    close_descriptors_from(4);
    ::execve(program.c_str(), argv.data(), envp.data());
    int e = errno;
    ssize_t ignored = ::write(3, &e, sizeof e);
    (void)ignored;
    ::_exit(127);
  }
  close_quietly(devnull);
  close_quietly(stderr_pipe[1]);
  close_quietly(exec_pipe[1]);
  int exec_errno = 0;
  ssize_t n = 0;
  do {
    n = ::read(exec_pipe[0], &exec_errno, sizeof exec_errno);
  } while (n < 0 && errno == EINTR);
  close_quietly(exec_pipe[0]);
  if (n == static_cast<ssize_t>(sizeof exec_errno)) {
    close_quietly(stderr_pipe[0]);
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    return Status::error(kCannotRun, "cannot run " + program + ": " + std::strerror(exec_errno));
  }
  ::fcntl(stderr_pipe[0], F_SETFL, ::fcntl(stderr_pipe[0], F_GETFL) | O_NONBLOCK);
  auto state = std::make_unique<SpawnedProcess::State>();
  state->pid = child;
  state->stderr_fd = stderr_pipe[0];
  return SpawnedProcess(std::move(state));
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

bool process_running(std::int64_t pid) {
  if (pid <= 0) return false;
  // A zombie (the daemon this very process started and nobody reaped yet) has ended too.
  int status = 0;
  if (::waitpid(static_cast<pid_t>(pid), &status, WNOHANG) == static_cast<pid_t>(pid)) {
    return false;
  }
  if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno != EPERM) return false;
  // Another process's child that has ended but was not reaped yet (a zombie, state Z in
  // /proc/<pid>/stat after the parenthesised name) has ended too.
  std::FILE* stat = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
  if (stat == nullptr) return true;
  char buf[512] = {};
  const std::size_t n = std::fread(buf, 1, sizeof buf - 1, stat);
  std::fclose(stat);
  const std::string text(buf, n);
  const auto close = text.rfind(')');
  return close == std::string::npos || close + 2 >= text.size() || text[close + 2] != 'Z';
}

bool stdin_is_terminal() {
  return ::isatty(STDIN_FILENO) == 1;
}

void ignore_broken_pipe() {
  std::signal(SIGPIPE, SIG_IGN);
}

}  // namespace dollhouse::ctl::platform
