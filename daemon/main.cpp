#include "daemon/run_daemon.hpp"

#ifdef _WIN32
#include <spdlog/spdlog.h>

#include <windows.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
#include <streambuf>
#include <string>

#include "common/win32.hpp"
#include "windows-service/service_host.hpp"

// dollhouse-telemetryd --service [options]: started by the service control manager, the daemon
// runs under the service wrapper, which turns the SCM's stop into the daemon's own shutdown.
// Without --service it runs in the console like on any other platform.
namespace {

// What the service wrapper and the guard above report: to the daemon's log once RunDaemon has
// set it up (<data root>\logs\telemetryd.log), and always to the debugger output, which
// DebugView shows on Windows and Wine prints to its terminal, since a service has no console.
void service_log(std::string_view message) {
  if (auto logger = spdlog::default_logger()) {
    logger->info("{}", message);
    logger->flush();
  }
  const std::wstring line =
      dollhouse::win32::widen("dollhouse-telemetryd: " + std::string(message) + "\n");
  ::OutputDebugStringW(line.c_str());
}

// std::cerr for a service: what RunDaemon prints before its log file is open ("cannot create
// the data root …") goes to the debugger output line by line, as service_log does.
class DebugOutputBuffer : public std::streambuf {
 protected:
  int_type overflow(int_type c) override {
    if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
    line_.push_back(traits_type::to_char_type(c));
    if (line_.back() == '\n') sync();
    return c;
  }
  int sync() override {
    if (!line_.empty()) {
      ::OutputDebugStringW(dollhouse::win32::widen(line_).c_str());
      line_.clear();
    }
    return 0;
  }

 private:
  std::string line_;
};

}  // namespace

int main() {
  // UTF-8 arguments: argv would hold them in the ANSI code page.
  dollhouse::win32::Utf8Argv args("dollhouse-telemetryd");
  if (args.argc() < 2 || std::strcmp(args.argv()[1], dollhouse::winsvc::kServiceFlag) != 0) {
    return dollhouse::daemon::RunDaemon(args.argc(), args.argv());
  }
  args.erase(1);  // the daemon's own parser does not know --service
  DebugOutputBuffer debug_output;
  std::streambuf* console = std::cerr.rdbuf(&debug_output);
  auto result = dollhouse::winsvc::run_as_service(
      [&args](const dollhouse::winsvc::ReadyCallback& ready) {
        dollhouse::daemon::ServiceHooks hooks;
        hooks.on_ready = ready;
        // A service has no console to print a last word to: an exception that would end the
        // process unseen is logged and reaches the manager as exit code 1 (see service_log).
        try {
          return dollhouse::daemon::RunDaemon(args.argc(), args.argv(), hooks);
        } catch (const std::exception& e) {
          service_log(std::string("stopped by an unexpected error: ") + e.what());
        } catch (...) {
          service_log("stopped by an unexpected error");
        }
        return 1;
      },
      service_log);
  std::cerr.flush();
  std::cerr.rdbuf(console);
  if (!result) {
    std::fprintf(stderr, "dollhouse-telemetryd: %s\n", result.status().message().c_str());
    return 1;
  }
  return *result;
}
#else
int main(int argc, char** argv) {
  return dollhouse::daemon::RunDaemon(argc, argv);
}
#endif
