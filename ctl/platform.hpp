// What dollhousectl needs from the operating system, one implementation per platform
// (platform_posix.cpp, platform_windows.cpp): where it is installed, starting the daemon in the
// background, and running a helper program.
#pragma once

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

// Starts `args` (args[0] is the program) detached from this process and its terminal: it
// outlives dollhousectl, gets no console window, and its standard streams go nowhere.
Status spawn_detached(const std::vector<std::string>& args);

// Runs `args` (no shell) and waits for it. exit_code 127 when it could not be started.
struct CommandOutput {
  int exit_code = -1;
  std::string text;  // standard output and standard error together
};
CommandOutput run_command(const std::vector<std::string>& args);

bool stdin_is_terminal();

// Makes a write to a closed pipe an error instead of a fatal signal (POSIX; no-op on Windows).
void ignore_broken_pipe();

}  // namespace dollhouse::ctl::platform
