// A scripted ingestion server on 127.0.0.1 (tests/support/scripted_http_server.py) as a child
// process: it answers each request with the next step of `script` and prints one JSON line per
// request it was sent; requests() reads those lines back.
#pragma once

#include <chrono>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/child_process.hpp"
#include "tests/support/daemon_harness.hpp"

namespace dollhouse::testing {

class ScriptedServer {
 public:
  // With `cert` and `key` it speaks HTTPS.
  explicit ScriptedServer(const std::string& script, const std::string& cert = "",
                          const std::string& key = "") {
    const char* source = std::getenv("DOLLHOUSE_SOURCE_DIR");
    std::vector<std::string> argv = {
        "/usr/bin/env", "python3",
        std::string(source != nullptr ? source : ".") + "/tests/support/scripted_http_server.py",
        "--script", script};
    if (!cert.empty()) argv.insert(argv.end(), {"--tls-cert", cert, "--tls-key", key});
    process_ = std::make_unique<ChildProcess>(argv, base_env("/tmp"));
    if (process_->wait_for_output("\"port\"", std::chrono::seconds(20), true)) {
      port_ = nlohmann::json::parse(process_->out().substr(0, process_->out().find('\n')))["port"];
    }
  }
  int port() const { return port_; }
  std::string url(const std::string& scheme = "http", const std::string& host = "127.0.0.1") const {
    return scheme + "://" + host + ":" + std::to_string(port_) + "/api/v1/telemetry";
  }
  std::vector<nlohmann::json> requests() const {
    std::vector<nlohmann::json> out;
    std::istringstream in(process_->out());
    std::string line;
    while (std::getline(in, line)) {
      nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_object() && j.contains("n")) out.push_back(j);
    }
    return out;
  }
  // Waits until the server has seen `n` requests.
  bool wait_requests(int n, std::chrono::milliseconds timeout = std::chrono::seconds(30)) const {
    return process_->wait_for_output("{\"n\": " + std::to_string(n) + ",", timeout, true);
  }

 private:
  std::unique_ptr<ChildProcess> process_;
  int port_ = 0;
};

}  // namespace dollhouse::testing
