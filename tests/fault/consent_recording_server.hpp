// An ingestion server on 127.0.0.1 for the consent fault tests: it records every request it is
// sent (method, path, headers, the JSON body after gzip) and answers 202, or holds its answers
// until the test lets them go, as a server slow to answer a batch does.
//
// Boost.Beast over a real TCP socket, on a thread of its own. requests(), wait_requests(),
// hold() and release() may be called from any thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace dollhouse::testing {

// The largest request body recorded (after gzip): twice the daemon's kBatchMaxBytes, so any
// batch the daemon may send fits and anything larger is a finding, not a crash.
inline constexpr std::size_t kMaxRecordedBodyBytes = 1024 * 1024;

struct RecordedRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // names in lower case
  nlohmann::json body;                         // null when empty or not JSON
  std::chrono::steady_clock::time_point at;    // when the whole request had arrived
};

class RecordingServer {
 public:
  RecordingServer();
  ~RecordingServer();
  RecordingServer(const RecordingServer&) = delete;
  RecordingServer& operator=(const RecordingServer&) = delete;

  std::string url() const;
  // From now on, requests are recorded but not answered until release().
  void hold();
  // Answers every held request with `status`, and every later one at once.
  void release(int status);
  std::vector<RecordedRequest> requests() const;
  // Whether `n` requests have arrived within `timeout`.
  bool wait_requests(std::size_t n, std::chrono::milliseconds timeout) const;

 private:
  class Session;
  void accept();
  // Records the request; true when its answer must wait for release().
  bool record(RecordedRequest request, const std::shared_ptr<Session>& session);
  int status_now() const;

  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  int port_ = 0;
  std::thread thread_;

  mutable std::mutex mutex_;
  mutable std::condition_variable arrived_;
  std::vector<RecordedRequest> requests_;
  bool holding_ = false;
  int status_ = 202;
  std::vector<std::shared_ptr<Session>> held_;  // answered by release(), on the server's thread
};

}  // namespace dollhouse::testing
