// The service wrapper under the real service control manager (Wine's services.exe in CI): the
// test registers this program as a demand-start service, starts it, stops it, and checks the
// states the SCM saw, the exit code it recorded, and the wrapper's log. Run with
// "--as-service LOG", the program is the service: it serves until asked to stop, then
// returns 7.
#include <windows.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "common/win32.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/windows/wine.hpp"
#include "windows-service/service_host.hpp"

namespace dollhouse::testing {
namespace {

using namespace std::chrono_literals;
constexpr int kServiceExitCode = 7;

std::wstring self_path() {
  std::wstring buf(32768, L'\0');
  DWORD n = ::GetModuleFileNameW(nullptr, buf.data(), static_cast<DWORD>(buf.size()));
  buf.resize(n);
  return buf;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct ScHandleCloser {
  void operator()(SC_HANDLE h) const {
    if (h != nullptr) ::CloseServiceHandle(h);
  }
};
using ScHandle = std::unique_ptr<std::remove_pointer_t<SC_HANDLE>, ScHandleCloser>;

// Waits until the service reaches `state`; returns the last status seen.
SERVICE_STATUS_PROCESS wait_for_state(SC_HANDLE service, DWORD state,
                                      std::chrono::seconds timeout) {
  SERVICE_STATUS_PROCESS status{};
  auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    DWORD needed = 0;
    if (::QueryServiceStatusEx(service, SC_STATUS_PROCESS_INFO, reinterpret_cast<BYTE*>(&status),
                               sizeof status, &needed) &&
        status.dwCurrentState == state) {
      break;
    }
    std::this_thread::sleep_for(50ms);
  }
  return status;
}

TEST(ServiceHost, OutsideTheServiceManagerItSaysHowToRunInstead) {
  if (running_under_wine()) {
    GTEST_SKIP() << "under Wine, StartServiceCtrlDispatcher from a plain process may reach the "
                    "control pipe of a service Wine started before (it names them after one "
                    "shared counter), so the answer depends on what ran earlier";
  }
  std::string logged;
  auto result = winsvc::run_as_service([](const winsvc::ReadyCallback&) { return 0; },
                                       [&](std::string_view m) { logged += m; });
  ASSERT_FALSE(result);
  EXPECT_EQ(result.status().code(), "not_a_service");
  EXPECT_NE(result.status().message().find("without --service"), std::string::npos);
}

TEST(ServiceHost, TheServiceManagerStartsStopsAndSeesTheExitCode) {
  ScHandle scm(::OpenSCManagerW(nullptr, nullptr, SC_MANAGER_ALL_ACCESS));
  ASSERT_TRUE(scm) << win32::error_text(::GetLastError());
  TempDir dir;
  const std::string log = dir.file("service.log");
  const std::wstring name = L"DollhouseTelemetryTest" + std::to_wstring(::GetCurrentProcessId());
  const std::wstring command =
      L"\"" + self_path() + L"\" --as-service \"" + win32::widen(log) + L"\"";
  ScHandle service;
  retry_while_database_locked([&] {
    service.reset(::CreateServiceW(scm.get(), name.c_str(), name.c_str(), SERVICE_ALL_ACCESS,
                                   SERVICE_WIN32_OWN_PROCESS, SERVICE_DEMAND_START,
                                   SERVICE_ERROR_NORMAL, command.c_str(), nullptr, nullptr, nullptr,
                                   nullptr, nullptr));
    return service != nullptr;
  });
  ASSERT_TRUE(service) << win32::error_text(::GetLastError());
  struct Remove {
    SC_HANDLE service;
    ~Remove() { ::DeleteService(service); }
  } remove{service.get()};

  ASSERT_TRUE(retry_while_database_locked([&] {
    return ::StartServiceW(service.get(), 0, nullptr);
  })) << win32::error_text(::GetLastError());
  SERVICE_STATUS_PROCESS running = wait_for_state(service.get(), SERVICE_RUNNING, 30s);
  ASSERT_EQ(running.dwCurrentState, static_cast<DWORD>(SERVICE_RUNNING)) << read_file(log);
  EXPECT_TRUE(running.dwControlsAccepted & SERVICE_ACCEPT_STOP);
  EXPECT_TRUE(running.dwControlsAccepted & SERVICE_ACCEPT_SHUTDOWN);
  EXPECT_NE(running.dwProcessId, 0u);

  SERVICE_STATUS stop{};
  ASSERT_TRUE(::ControlService(service.get(), SERVICE_CONTROL_STOP, &stop))
      << win32::error_text(::GetLastError());
  SERVICE_STATUS_PROCESS stopped = wait_for_state(service.get(), SERVICE_STOPPED, 30s);
  ASSERT_EQ(stopped.dwCurrentState, static_cast<DWORD>(SERVICE_STOPPED)) << read_file(log);
  EXPECT_EQ(stopped.dwWin32ExitCode, static_cast<DWORD>(ERROR_SERVICE_SPECIFIC_ERROR));
  EXPECT_EQ(stopped.dwServiceSpecificExitCode, static_cast<DWORD>(kServiceExitCode));

  const std::string text = read_file(log);
  EXPECT_NE(text.find("starting"), std::string::npos) << text;
  EXPECT_NE(text.find("service running"), std::string::npos) << text;
  EXPECT_NE(text.find("asked the service to stop"), std::string::npos) << text;
  EXPECT_NE(text.find("body stopped on request"), std::string::npos) << text;
  EXPECT_NE(text.find("stopped (exit code 7)"), std::string::npos) << text;
}

// The service side: serve until the wrapper passes on the SCM's stop, then return 7.
int run_test_service(const std::string& log_path) {
  auto log = std::make_shared<std::ofstream>(log_path, std::ios::app);
  std::mutex mutex;
  std::condition_variable stop_requested;
  bool stop = false;
  auto result = winsvc::run_as_service(
      [&](const winsvc::ReadyCallback& ready) {
        ready([&] {
          std::lock_guard lock(mutex);
          stop = true;
          stop_requested.notify_all();
        });
        std::unique_lock lock(mutex);
        stop_requested.wait_for(lock, 60s, [&] { return stop; });
        *log << (stop ? "body stopped on request\n" : "body gave up waiting\n") << std::flush;
        return kServiceExitCode;
      },
      [log](std::string_view message) { *log << message << "\n"
                                             << std::flush; });
  if (!result) {
    *log << "run_as_service: " << result.status().message() << "\n";
    return 1;
  }
  return *result;
}

}  // namespace
}  // namespace dollhouse::testing

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--as-service") {
    return dollhouse::testing::run_test_service(argv[2]);
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
