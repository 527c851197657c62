// Waiting on a condition with a deadline, and whether a process has ended, for tests that watch
// real child processes.
#pragma once

#include <chrono>
#include <fstream>
#include <functional>
#include <string>
#include <thread>

namespace dollhouse::testing {

// Polls `condition` every 10 ms until it holds (true) or `timeout` has passed (false).
inline bool wait_until(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// Whether process `pid` is gone, or only a zombie waiting for whoever adopted it (state Z in
// /proc/<pid>/stat, after the parenthesised name). Linux.
inline bool process_gone(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return true;
  std::size_t paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z';
}

}  // namespace dollhouse::testing
