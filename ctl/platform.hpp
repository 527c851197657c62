// What dollhousectl needs from the operating system, one implementation per platform
// (platform_posix.cpp, platform_windows.cpp): where it is installed, starting the daemon in the
// background while watching whether it comes up, and running a helper program.
//
// Everything here is used from dollhousectl's one thread; SpawnedProcess is movable, not
// copyable.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.hpp"

namespace dollhouse::ctl::platform {

// The directory this executable was started from; "" when the system cannot tell.
std::string own_directory();
// The file name of the program `name` here ("dollhouse-telemetryd", ".exe" added on Windows).
std::string program_file(const std::string& name);
// Whether `path` exists and may be executed.
bool is_executable(const std::string& path);
// Joins a directory and a file name with the platform's separator.
std::string join_path(const std::string& dir, const std::string& name);

// Status code of spawn_daemon when the program could not be run at all (not found, not
// executable); the message reads "cannot run <program>: <reason>".
inline constexpr const char* kCannotRun = "cannot_run";

// How a process ended: its exit code, or (POSIX) the signal that killed it.
struct ProcessEnd {
  int exit_code = 0;
  int signal = 0;  // 0 when it exited on its own
};

// A daemon this program started. The process outlives dollhousectl and is never stopped by this
// object; while the object collects, it reads what the process writes to its standard error, so
// that a daemon that cannot start can be reported in its own words.
class SpawnedProcess {
 public:
  struct State;  // per platform
  explicit SpawnedProcess(std::unique_ptr<State> state);
  SpawnedProcess(SpawnedProcess&&) noexcept;
  SpawnedProcess& operator=(SpawnedProcess&&) noexcept;
  SpawnedProcess(const SpawnedProcess&) = delete;
  SpawnedProcess& operator=(const SpawnedProcess&) = delete;
  ~SpawnedProcess();  // releases; the process keeps running

  // Waits at most `timeout` for the process to write to its standard error or to end, and
  // collects what it wrote. Returns early when either happens.
  void wait(std::chrono::milliseconds timeout);
  // How the process ended, or nullopt while it runs. Never blocks.
  std::optional<ProcessEnd> exited();
  // What the process wrote to its standard error so far (the last 64 KiB of it).
  const std::string& stderr_text() const;
  // Stops collecting and closes this side of the standard error pipe: from then on the
  // process's writes there fail (EPIPE; the daemon ignores SIGPIPE). Idempotent.
  void release();

 private:
  std::unique_ptr<State> state_;
};

// Starts `args` (args[0] is the program: a path, or on POSIX a bare name looked up in PATH) in
// the background: in a session of its own (POSIX) or detached from the console (Windows), with
// standard input and output on the null device and standard error on a pipe this process reads.
// The child's environment is this process's without the variables named in `env_to_remove`
// (compared as the platform does: exactly on POSIX, ignoring case on Windows).
// Returns once the program runs; errors: kCannotRun when it could not be executed, "io_error"
// when the system refused to create the process or its pipes.
Result<SpawnedProcess> spawn_daemon(const std::vector<std::string>& args,
                                    const std::vector<std::string>& env_to_remove);

// Runs `args` (no shell) and waits for it. exit_code 127 when it could not be started.
struct CommandOutput {
  int exit_code = -1;
  std::string text;  // standard output and standard error together
};
CommandOutput run_command(const std::vector<std::string>& args);

bool stdin_is_terminal();

// Whether a process with this id still runs (one of this user's: the daemon).
bool process_running(std::int64_t pid);

// Makes a write to a closed pipe an error instead of a fatal signal (POSIX; no-op on Windows).
void ignore_broken_pipe();

}  // namespace dollhouse::ctl::platform
