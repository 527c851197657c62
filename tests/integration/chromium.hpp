// Headless Chromium for page tests: a page's DOM after its scripts ran, a screenshot at a
// given window size, and the data-metric/data-value pairs a page carries. Each call runs a
// fresh Chromium with a throwaway profile; nothing is fetched but the given URL's server.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "tests/support/child_process.hpp"
#include "tests/support/temp_dir.hpp"

namespace dollhouse::testing {

// The installed Chromium, "" when there is none (page tests then skip, saying so).
inline std::string find_chromium() {
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return "";
}

// Runs `chromium` headless on `url` in a window of width x height with one more argument
// (--dump-dom, --screenshot=FILE). Virtual time lets the page's fetches finish first.
inline RunResult run_chromium(const std::string& chromium, const std::string& url,
                              const std::string& action, int width = 1280, int height = 900) {
  TempDir profile;
  std::vector<std::string> args = {
      chromium,
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
      "--disable-dev-shm-usage",
      "--hide-scrollbars",
      "--user-data-dir=" + profile.file("chromium-profile"),
      "--virtual-time-budget=15000",
      "--window-size=" + std::to_string(width) + "," + std::to_string(height),
      action,
      url};
  return run_process(args, base_env(profile.path()), "", std::chrono::seconds(90));
}

// data-metric → data-value for every element that carries both.
inline std::map<std::string, std::string> metrics_in(const std::string& dom) {
  std::map<std::string, std::string> out;
  const std::string key = "data-metric=\"";
  for (std::size_t at = dom.find(key); at != std::string::npos; at = dom.find(key, at + 1)) {
    const std::size_t start = at + key.size();
    const std::string name = dom.substr(start, dom.find('"', start) - start);
    const std::size_t tag_end = dom.find('>', start);
    const std::size_t v = dom.find("data-value=\"", start);
    if (v == std::string::npos || v > tag_end) continue;
    const std::size_t vs = v + 12;
    out[name] = dom.substr(vs, dom.find('"', vs) - vs);
  }
  return out;
}

// <build>/test-artifacts/, created on first use: screenshots people look at after a run.
inline std::filesystem::path test_artifacts() {
  const std::filesystem::path dir =
      std::filesystem::path(build_bin("")).parent_path().parent_path() / "test-artifacts";
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace dollhouse::testing
