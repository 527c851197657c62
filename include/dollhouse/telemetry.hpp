// Dollhouse Telemetry client library (C++).
//
// An app creates one Client and calls track()/usage() wherever something worth counting
// happens. Calls never block on I/O and never throw: they copy the event into a bounded
// in-memory queue that one background thread sends to the per-user daemon over its local
// socket. When the daemon is absent, the queue is full, or a kill switch (DO_NOT_TRACK=1,
// DOLLHOUSE_TELEMETRY=off, a CI environment) is in force, events are dropped and counted;
// the app behaves the same either way. The daemon, not this library, decides what is stored
// (the user's consent) and removes personal data.
//
// Installation and update facts given in ClientOptions are restated in every hello until the
// daemon says they were counted (or never will be), so an installation that happened before the
// user answered is counted once if they say yes. install_crash_handler() records fatal signals
// and std::terminate as crash records the daemon turns into crash events (docs/protocol.md
// "Crash records"); it writes nothing unless the daemon's last hello reply said crash reports
// are collected. With DOLLHOUSE_TELEMETRY_DEBUG=1 every event and the daemon's verdict on it
// are printed to stderr (the developer echo).
//
// Threading: every member function may be called from any thread at the same time.
// Destruction waits at most ClientOptions::shutdown_timeout for queued events to be handed over.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace dollhouse::telemetry {

// The seed's event types, with only the fields an app knows. The daemon adds timestamp,
// installId, version and platform.
struct InstallationEvent {
  std::string install_method;    // npm|npx|git-clone|docker|unknown
  std::string install_type;      // new|upgrade|reinstall
  std::string previous_version;  // optional
};

struct UpdateEvent {
  std::string from_version;
  std::string to_version;
  bool success = false;
  std::string error_category;  // optional: network|permissions|dependencies|corruption|unknown
  std::int64_t duration_ms = 0;
};

struct ClientOptions {
  std::string app;           // the app's name, e.g. "dollhousemcp" (required)
  std::string app_version;   // e.g. "1.9.16" (required)
  std::string node_version;  // optional; the daemon keeps major.minor only
  std::string mcp_client;    // optional: claude-desktop|claude-code|gemini|other|unknown
  // Empty: resolved like the daemon does (DOLLHOUSE_TELEMETRY_SOCKET, XDG_RUNTIME_DIR, ...).
  std::string socket_path;
  // Events waiting for the background thread; more are dropped (counted as queue_full).
  std::size_t max_queued_events = 1024;
  // How long destruction may wait to hand queued events to the daemon.
  std::chrono::milliseconds shutdown_timeout{1000};
  // Reconnection after the daemon went away: exponential from min to max.
  std::chrono::milliseconds reconnect_min{100};
  std::chrono::milliseconds reconnect_max{30000};
  // Where the kill switches, DOLLHOUSE_TELEMETRY_DEBUG (and, with an empty socket_path or
  // data_root, the socket and data root variables) are read.
  // Unset: the process environment, read once by the constructor. Set: only these variables,
  // for hosts that keep their own environment and for tests.
  std::optional<std::map<std::string, std::string>> environment;
  // This run's installation or update, when the app has just been installed or updated. Sent
  // in hello's "setup" (at connection, at once) and again at every hello until the daemon
  // answers counted, already_counted or not_collected; the app needs no logic of its own.
  std::optional<InstallationEvent> installation;
  std::optional<UpdateEvent> update;
  // The data root crash records are written under (<root>/crashes/). Empty: resolved like the
  // daemon does (DOLLHOUSE_HOME, else ~/.dollhouse) from `environment`.
  std::string data_root;
};

// Used for both crash and error events.
struct FailureEvent {
  std::string error_type;      // startup|runtime|shutdown|unknown
  std::string error_category;  // e.g. "MODULE_NOT_FOUND"
  std::string error_message;   // scrubbed by the daemon; keep it short and generic anyway
  std::string component;       // e.g. "PortfolioManager"
  bool recovered = false;
};

// Usage increments, rolled up by the daemon into one weekly_summary per ISO week.
// Counter names: personasUsed, skillsUsed, templatesUsed, agentsUsed, memoriesUsed,
// portfolioSyncs, collectionBrowses, sessions, errors, crashes. Timing names (milliseconds):
// startup, response.
struct Usage {
  std::map<std::string, std::int64_t> counters;
  std::map<std::string, double> timings_ms;
};

struct ClientStats {
  std::uint64_t queued = 0;     // accepted into the in-memory queue
  std::uint64_t delivered = 0;  // written to the daemon's socket
  std::uint64_t dropped_queue_full = 0;
  std::uint64_t dropped_no_daemon = 0;  // the daemon could not be reached
  std::uint64_t dropped_disabled = 0;   // a kill switch is in force
  std::uint64_t dropped_invalid = 0;    // not a JSON object
};

// What the user answered, as the daemon's latest hello reply said. kUnknown until a hello has
// been answered (the daemon is not running, or the client has not connected yet).
enum class ConsentAnswer { kUnknown, kNotAnswered, kDeclined, kGiven, kWithdrawn };

struct ConsentView {
  ConsentAnswer answer = ConsentAnswer::kUnknown;
  bool collecting = false;     // the daemon collects now (given, no kill switch, policy current)
  bool crash_reports = false;  // collecting, and the crash category is on
  std::string blocked_by;      // why nothing is collected ("no_consent", ...), else empty
};

enum class CrashHandlerResult {
  kInstalled,         // from now on fatal signals and std::terminate leave a crash record
  kDisabled,          // a kill switch is in force: nothing installed
  kAlreadyInstalled,  // another live Client of this process installed it
  kNotSupported,      // not on this platform (Windows: see docs/clients-native.md)
  kFailed,            // the signal handlers or the alternate stack could not be set up
};

class Client {
 public:
  explicit Client(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Each returns true when the event was queued, false when it was dropped (and counted).
  bool track(const InstallationEvent& event) noexcept;
  bool track(const UpdateEvent& event) noexcept;
  bool track_crash(const FailureEvent& event) noexcept;
  bool track_error(const FailureEvent& event) noexcept;
  // An event object as JSON text, e.g. {"eventType":"crash","errorType":"runtime",...}.
  bool track_json(std::string_view event_json) noexcept;
  bool usage(const Usage& usage) noexcept;

  // Waits until the daemon confirms that everything queued before this call is durable on
  // disk or was dropped by policy. False on timeout, absent daemon, or when disabled.
  bool flush(std::chrono::milliseconds timeout) noexcept;

  // Installs the process's crash handler for SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT and
  // std::terminate, once per process. Call it early on the main thread: the alternate signal
  // stack that lets a stack overflow be recorded is that thread's. `component` is the record's
  // component ("native" when empty). The handler writes a record only while this Client lives
  // and the daemon's latest hello reply said crash reports are collected; the installation
  // connects to the daemon at once to learn that. Whatever it writes, the previous handler is
  // restored and the signal raised again, so the process ends as it would have.
  CrashHandlerResult install_crash_handler(std::string_view component = "native") noexcept;

  // The consent state of the daemon's latest hello reply (no I/O).
  ConsentView consent() const noexcept;
  // Says hello again (connecting if need be) and returns the consent it was answered with;
  // waits at most `timeout`, then returns what is known.
  ConsentView refresh_consent(std::chrono::milliseconds timeout) noexcept;

  // False when a kill switch is in force; the client is then a no-op.
  bool enabled() const noexcept;
  ClientStats stats() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dollhouse::telemetry
