// A loopback HTTP/1.1 relay between the daemon's uploader and the reference server that can kill
// the daemon at a chosen point of one upload: before the request reaches the server, after it
// reached the server but before the server answered, after the server's complete 2xx answer
// was read but before the daemon saw any of it, or just after the answer was relayed. The
// relay never changes a byte; it only decides when to stop.
//
// Every exchange is recorded with its batch id (the Idempotency-Key header), the server's
// status and whether the server said the batch was a duplicate. One accept thread serves one
// connection at a time (the daemon uploads one batch at a time); arm() and exchanges() may be
// called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace dollhouse::testing {

// Where in one upload the daemon is killed.
enum class KillPoint {
  kNone,                // relayed untouched
  kBeforeForwarding,    // the request was read from the daemon; the server never sees it
  kBeforeServerAnswer,  // the request reached the server; the kill comes before its answer
  kAfterServerAnswer,   // the server's full 2xx answer was read; the daemon gets none of it
  kAfterAnswerRelayed,  // the answer reached the daemon; the kill follows after a delay
};

std::string_view to_string(KillPoint point);

struct RelayedExchange {
  std::string method;
  std::string batch_id;    // the Idempotency-Key header, empty for requests without one
  int status = 0;          // the server's status code, 0 when it never answered
  bool duplicate = false;  // the server's body said {"duplicate":true}
  KillPoint killed_at = KillPoint::kNone;
};

class KillingProxy {
 public:
  // Relays to 127.0.0.1:upstream_port. port() is 0 when the relay could not listen.
  explicit KillingProxy(int upstream_port);
  ~KillingProxy();
  KillingProxy(const KillingProxy&) = delete;
  KillingProxy& operator=(const KillingProxy&) = delete;

  int port() const { return port_; }
  std::string url(const std::string& path) const;

  // The next POST is interrupted at `point` by calling `kill`, which must end the daemon (and
  // return once it is gone). At kAfterServerAnswer only a 2xx answer triggers it; any other
  // answer is relayed and the relay stays armed. At kAfterAnswerRelayed the kill comes
  // `delay_after_relay` after the last byte was written to the daemon. One-shot.
  void arm(KillPoint point, std::function<void()> kill,
           std::chrono::microseconds delay_after_relay = std::chrono::microseconds(0));
  bool armed() const;

  std::vector<RelayedExchange> exchanges() const;
  // Waits until at least `count` exchanges were recorded.
  bool wait_exchanges(std::size_t count, std::chrono::milliseconds timeout);

 private:
  void accept_loop();
  void relay(int client_fd);
  void record(RelayedExchange exchange);

  int upstream_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  KillPoint armed_point_ = KillPoint::kNone;
  std::function<void()> kill_;
  std::chrono::microseconds delay_after_relay_{0};
  std::vector<RelayedExchange> exchanges_;
  std::thread thread_;
};

}  // namespace dollhouse::testing
