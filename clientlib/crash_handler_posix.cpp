// POSIX crash handler. What runs in the handler is async-signal-safe: it reads prepared text,
// atomics and a directory descriptor opened in advance, and calls only clock_gettime, getpid,
// openat, write, close, renameat, sigaction and raise. No allocation, no lock, no stdio.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>

#include "clientlib/crash_handler.hpp"

namespace dollhouse::telemetry::detail {
namespace {

constexpr std::array<int, 5> kSignals = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
constexpr std::array<CrashKind, 5> kSignalKinds = {
    CrashKind::kSegv, CrashKind::kBus, CrashKind::kFpe, CrashKind::kIll, CrashKind::kAbort};
// The file name's app part and '-' are at most this long, so the name fits the handler's
// stack buffer with the pid, the time and the suffix.
constexpr std::size_t kMaxFilePrefixBytes = 160;
constexpr std::size_t kNameBufferBytes = 256;

struct HandlerState {
  std::mutex mu;  // installation, arming and release; never taken by the handler
  bool installed = false;
  const void* owner = nullptr;
  std::string crash_dir;
  // Read by the handler while armed; changed only while disarmed.
  CrashRecordText text;
  std::array<struct sigaction, kSignals.size()> previous{};
  std::terminate_handler previous_terminate = nullptr;
};

HandlerState* g_state = nullptr;  // set once, before the first handler is installed
std::atomic<bool> g_armed{false};
std::atomic<int> g_dir_fd{-1};
// One record per process: the first fatal event writes it (std::terminate's abort() then finds
// it taken), a second thread crashing at the same time writes none.
std::atomic<bool> g_record_taken{false};
static_assert(std::atomic<bool>::is_always_lock_free && std::atomic<int>::is_always_lock_free,
              "the handler may only use lock-free atomics");

timespec monotonic_now() {
  timespec t{};
  ::clock_gettime(CLOCK_MONOTONIC, &t);
  return t;
}
// When this library was loaded: the process's start for an app that links it.
const timespec g_loaded_at = monotonic_now();

alignas(16) char g_alt_stack[kCrashAltStackBytes];

HandlerState& state() {
  static HandlerState s;
  return s;
}

bool write_all(int fd, const char* data, std::size_t size) noexcept {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

std::size_t append(char* out, std::size_t at, const char* text, std::size_t size) noexcept {
  for (std::size_t i = 0; i < size && at < kNameBufferBytes - 1; ++i) out[at++] = text[i];
  out[at] = '\0';
  return at;
}

void write_record(CrashKind kind) noexcept {
  if (!g_armed.load() || g_state == nullptr) return;
  if (g_record_taken.exchange(true)) return;
  const int dir = g_dir_fd.load();
  if (dir < 0) return;
  timespec real{};
  ::clock_gettime(CLOCK_REALTIME, &real);
  const timespec mono = monotonic_now();
  const std::int64_t up_ms =
      (mono.tv_sec - g_loaded_at.tv_sec) * 1000 + (mono.tv_nsec - g_loaded_at.tv_nsec) / 1'000'000;
  const bool startup =
      up_ms < std::chrono::duration_cast<std::chrono::milliseconds>(kStartupWindow).count();
  const std::uint64_t now_ms = static_cast<std::uint64_t>(real.tv_sec) * 1000 +
                               static_cast<std::uint64_t>(real.tv_nsec) / 1'000'000;
  char time_digits[24];
  const std::size_t time_size = format_decimal(now_ms, time_digits);
  char pid_digits[24];
  const std::size_t pid_size = format_decimal(static_cast<std::uint64_t>(::getpid()), pid_digits);

  const CrashRecordText& text = g_state->text;
  char tmp_name[kNameBufferBytes];
  std::size_t at = append(tmp_name, 0, text.file_prefix.data(), text.file_prefix.size());
  at = append(tmp_name, at, pid_digits, pid_size);
  at = append(tmp_name, at, "-", 1);
  at = append(tmp_name, at, time_digits, time_size);
  char final_name[kNameBufferBytes];
  std::memcpy(final_name, tmp_name, at);
  append(final_name, at, ".json", 5);
  append(tmp_name, at, ".tmp", 4);

  const int fd =
      ::openat(dir, tmp_name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return;
  const std::size_t index = static_cast<std::size_t>(kind);
  const std::string& tail = startup ? text.startup_tail[index] : text.runtime_tail[index];
  const bool written = write_all(fd, text.head.data(), text.head.size()) &&
                       write_all(fd, time_digits, time_size) &&
                       write_all(fd, tail.data(), tail.size());
  const bool closed = ::close(fd) == 0;
  // An incomplete .tmp is never renamed; the daemon deletes it after a minute.
  if (written && closed) ::renameat(dir, tmp_name, dir, final_name);
}

extern "C" void on_fatal_signal(int signo, siginfo_t* info, void*) {
  const int saved_errno = errno;
  std::size_t index = 0;
  while (index < kSignals.size() && kSignals[index] != signo) ++index;
  if (index < kSignals.size() && g_state != nullptr) {
    write_record(kSignalKinds[index]);
    ::sigaction(signo, &g_state->previous[index], nullptr);
  }
  errno = saved_errno;
  // A fault the kernel raised (si_code > 0) happens again when the handler returns, now under
  // the previous disposition, which then sees the genuine fault; anything sent (raise, abort,
  // kill) is sent again.
  const bool fault = info != nullptr && info->si_code > 0 && signo != SIGABRT;
  if (!fault) ::raise(signo);
}

[[noreturn]] void on_terminate() noexcept {
  write_record(CrashKind::kTerminate);
  if (g_state != nullptr && g_state->previous_terminate != nullptr) g_state->previous_terminate();
  std::abort();
}

// Opens (creating it 0700 when missing) the crash directory once; mu held.
void open_directory_locked(HandlerState& s) {
  if (g_dir_fd.load() >= 0) return;
  if (::mkdir(s.crash_dir.c_str(), 0700) != 0 && errno != EEXIST) return;
  const int fd = ::open(s.crash_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) g_dir_fd.store(fd);
}

bool use_alternate_stack() {
  stack_t current{};
  if (::sigaltstack(nullptr, &current) == 0 && (current.ss_flags & SS_DISABLE) == 0) {
    return true;  // this thread has one already (the app's or a sanitizer's)
  }
  stack_t stack{};
  stack.ss_sp = g_alt_stack;
  stack.ss_size = sizeof g_alt_stack;
  stack.ss_flags = 0;
  return ::sigaltstack(&stack, nullptr) == 0;
}

}  // namespace

CrashHandlerResult install_crash_handler(const void* owner, const std::string& crash_dir,
                                         const CrashRecordFacts& facts) {
  auto text = prepare_crash_record(facts);
  if (!text || text->file_prefix.size() > kMaxFilePrefixBytes) return CrashHandlerResult::kFailed;
  HandlerState& s = state();
  std::lock_guard lock(s.mu);
  if (s.installed && s.owner != nullptr && s.owner != owner) {
    return CrashHandlerResult::kAlreadyInstalled;
  }
  // Installed and unowned (its Client went away), or new: disarmed while the text changes.
  g_armed.store(false);
  s.text = std::move(*text);
  if (s.crash_dir != crash_dir) {
    if (const int old = g_dir_fd.exchange(-1); old >= 0) ::close(old);
    s.crash_dir = crash_dir;
  }
  s.owner = owner;
  open_directory_locked(s);
  if (s.installed) return CrashHandlerResult::kInstalled;

  if (!use_alternate_stack()) return CrashHandlerResult::kFailed;
  g_state = &s;
  struct sigaction action {};
  action.sa_sigaction = on_fatal_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_SIGINFO | SA_ONSTACK;
  for (std::size_t i = 0; i < kSignals.size(); ++i) {
    if (::sigaction(kSignals[i], &action, &s.previous[i]) != 0) {
      for (std::size_t j = 0; j < i; ++j) ::sigaction(kSignals[j], &s.previous[j], nullptr);
      s.owner = nullptr;
      return CrashHandlerResult::kFailed;
    }
  }
  s.previous_terminate = std::set_terminate(on_terminate);
  s.installed = true;
  return CrashHandlerResult::kInstalled;
}

void arm_crash_handler(const void* owner, bool armed) {
  HandlerState& s = state();
  std::lock_guard lock(s.mu);
  if (!s.installed || s.owner != owner) return;
  if (armed) open_directory_locked(s);
  g_armed.store(armed && g_dir_fd.load() >= 0);
}

void release_crash_handler(const void* owner) {
  HandlerState& s = state();
  std::lock_guard lock(s.mu);
  if (s.owner != owner) return;
  g_armed.store(false);
  s.owner = nullptr;
}

}  // namespace dollhouse::telemetry::detail
