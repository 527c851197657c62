#include "tests/support/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace dollhouse::testing {

ChildProcess::ChildProcess(std::vector<std::string> argv, const Env& env, std::string input) {
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0 ||
      ::pipe2(err_pipe, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe2 failed");
  }
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> cargv, cenv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  for (auto& e : env_strings) cenv.push_back(e.data());
  cenv.push_back(nullptr);

  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::dup2(in_pipe[0], 0);
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    ::execve(cargv[0], cargv.data(), cenv.data());
    ::_exit(127);
  }
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  // Small inputs only (answers to prompts); larger ones would need a writer thread.
  if (!input.empty()) {
    ssize_t ignored = ::write(in_pipe[1], input.data(), input.size());
    (void)ignored;
  }
  ::close(in_pipe[1]);
  out_reader_ = std::thread([this, fd = out_pipe[0]] { pump(fd, out_); });
  err_reader_ = std::thread([this, fd = err_pipe[0]] { pump(fd, err_); });
}

ChildProcess::~ChildProcess() {
  if (!exit_code_) {
    ::kill(pid_, SIGKILL);
    wait(std::chrono::seconds(30));
  }
  if (out_reader_.joinable()) out_reader_.join();
  if (err_reader_.joinable()) err_reader_.join();
}

void ChildProcess::pump(int fd, std::string& sink) {
  char buf[4096];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    std::lock_guard lock(mutex_);
    sink.append(buf, static_cast<std::size_t>(n));
    changed_.notify_all();
  }
  ::close(fd);
  std::lock_guard lock(mutex_);
  --open_streams_;
  changed_.notify_all();
}

void ChildProcess::signal(int signo) {
  if (!exit_code_) ::kill(pid_, signo);
}

std::optional<int> ChildProcess::wait(std::chrono::milliseconds timeout) {
  if (exit_code_) return exit_code_;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      // Output may still be in the pipes; wait for the readers to see EOF.
      std::unique_lock lock(mutex_);
      changed_.wait_until(lock, deadline + std::chrono::seconds(5),
                          [this] { return open_streams_ == 0; });
      return exit_code_;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    // Wake when output arrives or the streams close (a child that exits closes them), at the
    // latest every 10 ms to look at waitpid again.
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, std::chrono::milliseconds(10));
  }
}

bool ChildProcess::wait_for_output(const std::string& needle, std::chrono::milliseconds timeout,
                                   bool from_stdout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] {
    const std::string& s = from_stdout ? out_ : err_;
    return s.find(needle) != std::string::npos || open_streams_ == 0;
  }) && (from_stdout ? out_ : err_).find(needle) != std::string::npos;
}

std::string ChildProcess::out() const {
  std::lock_guard lock(mutex_);
  return out_;
}

std::string ChildProcess::err() const {
  std::lock_guard lock(mutex_);
  return err_;
}

RunResult run_process(std::vector<std::string> argv, const Env& env, std::string input,
                      std::chrono::milliseconds timeout) {
  ChildProcess child(std::move(argv), env, std::move(input));
  auto code = child.wait(timeout);
  if (!code) {
    child.signal(SIGKILL);
    child.wait(std::chrono::seconds(10));
  }
  return {code.value_or(-1), child.out(), child.err()};
}

Env base_env(const std::string& home) {
  Env env;
  env["PATH"] = "/usr/local/bin:/usr/bin:/bin";
  env["HOME"] = home;
  env["LANG"] = "C.UTF-8";
  for (const char* name : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TZ"}) {
    if (const char* v = std::getenv(name)) env[name] = v;
  }
  return env;
}

std::string build_bin(const std::string& program) {
  const char* dir = std::getenv("DOLLHOUSE_BUILD_BIN");
  return std::string(dir != nullptr ? dir : DOLLHOUSE_TEST_BUILD_BIN) + "/" + program;
}

}  // namespace dollhouse::testing
