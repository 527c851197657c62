#include "windows-service/service_host.hpp"

#include <windows.h>

#include <mutex>

#include "common/win32.hpp"

namespace dollhouse::winsvc {

namespace {

// The SCM calls plain functions with no context pointer for ServiceMain, so the one service
// this process runs lives here. Guarded by `mutex` where the SCM's threads meet the body's.
struct ServiceState {
  std::mutex mutex;
  ServiceBody body;
  ServiceLog log;
  SERVICE_STATUS_HANDLE handle = nullptr;
  SERVICE_STATUS status{};
  std::function<void()> request_stop;  // set once the body serves
  bool stop_requested = false;         // a stop that came before the body was ready
  int exit_code = 0;
  bool ran = false;
};

ServiceState& state() {
  static ServiceState s;
  return s;
}

// Caller holds the mutex.
void report(ServiceState& s, DWORD current_state, DWORD wait_hint = 0) {
  s.status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
  s.status.dwCurrentState = current_state;
  s.status.dwControlsAccepted =
      current_state == SERVICE_RUNNING
          ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN | SERVICE_ACCEPT_PRESHUTDOWN
          : 0;
  s.status.dwWaitHint = wait_hint;
  if (current_state == SERVICE_RUNNING || current_state == SERVICE_STOPPED) {
    s.status.dwCheckPoint = 0;
  } else {
    ++s.status.dwCheckPoint;
  }
  if (s.handle != nullptr) ::SetServiceStatus(s.handle, &s.status);
}

DWORD WINAPI control_handler(DWORD control, DWORD, void*, void*) {
  ServiceState& s = state();
  switch (control) {
    case SERVICE_CONTROL_STOP:
    case SERVICE_CONTROL_SHUTDOWN:
    case SERVICE_CONTROL_PRESHUTDOWN: {
      std::function<void()> stop;
      {
        std::lock_guard<std::mutex> lock(s.mutex);
        if (s.status.dwCurrentState == SERVICE_STOPPED) return NO_ERROR;
        report(s, SERVICE_STOP_PENDING, kStopWaitHintMs);
        s.stop_requested = true;
        stop = s.request_stop;
      }
      if (s.log) s.log("the service control manager asked the service to stop");
      if (stop) stop();
      return NO_ERROR;
    }
    case SERVICE_CONTROL_INTERROGATE:
      return NO_ERROR;
    default:
      return ERROR_CALL_NOT_IMPLEMENTED;
  }
}

void WINAPI service_main(DWORD argc, LPWSTR* argv) {
  ServiceState& s = state();
  // For an own-process service the SCM passes the name it started (a per-user instance has a
  // suffix); the control handler must be registered under that name.
  const wchar_t* name = argc > 0 && argv != nullptr ? argv[0] : L"";
  {
    std::lock_guard<std::mutex> lock(s.mutex);
    s.handle = ::RegisterServiceCtrlHandlerExW(name, control_handler, nullptr);
    if (s.handle == nullptr) {
      if (s.log)
        s.log("cannot register the service control handler: " +
              win32::error_text(::GetLastError()));
      return;
    }
    report(s, SERVICE_START_PENDING, 10000);
  }
  if (s.log) s.log("service " + win32::narrow(name) + " starting");
  ReadyCallback ready = [&s](std::function<void()> request_stop) {
    bool stop_now = false;
    {
      std::lock_guard<std::mutex> lock(s.mutex);
      s.request_stop = request_stop;
      stop_now = s.stop_requested;
      if (!stop_now) report(s, SERVICE_RUNNING);
    }
    if (s.log) s.log("service running");
    if (stop_now) request_stop();
  };
  int code = s.body(ready);
  std::lock_guard<std::mutex> lock(s.mutex);
  s.exit_code = code;
  s.ran = true;
  s.request_stop = nullptr;
  // A non-zero exit code reaches the SCM (and the event log) as a service-specific error.
  s.status.dwWin32ExitCode = code == 0 ? NO_ERROR : ERROR_SERVICE_SPECIFIC_ERROR;
  s.status.dwServiceSpecificExitCode = static_cast<DWORD>(code);
  if (s.log) s.log("service stopped (exit code " + std::to_string(code) + ")");
  report(s, SERVICE_STOPPED);
}

}  // namespace

Result<int> run_as_service(ServiceBody body, ServiceLog log) {
  ServiceState& s = state();
  s.body = std::move(body);
  s.log = std::move(log);
  // The name is ignored for an own-process service, but may not be empty.
  std::wstring name = win32::widen(kServiceName);
  SERVICE_TABLE_ENTRYW table[] = {{name.data(), service_main}, {nullptr, nullptr}};
  if (!::StartServiceCtrlDispatcherW(table)) {
    DWORD err = ::GetLastError();
    if (err == ERROR_FAILED_SERVICE_CONTROLLER_CONNECT) {
      return Status::error("not_a_service",
                           "--service is for the service control manager; to run the daemon "
                           "in this console, start it without --service");
    }
    return Status::error(
        "io_error", "cannot connect to the service control manager: " + win32::error_text(err));
  }
  std::lock_guard<std::mutex> lock(s.mutex);
  if (!s.ran) return Status::error("io_error", "the service did not start; see the log");
  return s.exit_code;
}

}  // namespace dollhouse::winsvc
