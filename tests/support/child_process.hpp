// Child processes for integration tests: real fork/exec with an explicit environment, output
// captured by a reader thread, waits bounded by deadlines, signals (SIGTERM, SIGKILL) on demand.
//
// A ChildProcess is owned by one test thread; its output accessors are thread-safe.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace dollhouse::testing {

using Env = std::map<std::string, std::string>;

class ChildProcess {
 public:
  // Starts argv[0] (a path) with exactly `env`; stdin gets `input` then EOF.
  ChildProcess(std::vector<std::string> argv, const Env& env, std::string input = "");
  ~ChildProcess();  // SIGKILLs a child still running, then reaps it
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int signo);
  // The exit code (or 128 + signal), or nullopt if it is still running at the deadline.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  // Waits until `needle` appears in stderr (or stdout when from_stdout), or the child exits.
  bool wait_for_output(const std::string& needle, std::chrono::milliseconds timeout,
                       bool from_stdout = false);
  std::string out() const;
  std::string err() const;

 private:
  void pump(int fd, std::string& sink);

  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::string out_, err_;
  int open_streams_ = 2;
  std::thread out_reader_, err_reader_;
};

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs a command to completion (killed after timeout, exit code then -1).
RunResult run_process(std::vector<std::string> argv, const Env& env, std::string input = "",
                      std::chrono::milliseconds timeout = std::chrono::seconds(60));

// The environment tests give children: PATH, HOME and sanitizer settings only, so the
// machine's own CI or DO_NOT_TRACK variables never leak into a test.
Env base_env(const std::string& home);

// Path of a built program: $DOLLHOUSE_BUILD_BIN, else this build's bin directory.
std::string build_bin(const std::string& program);

}  // namespace dollhouse::testing
