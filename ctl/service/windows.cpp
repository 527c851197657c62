// The Windows service: a per-user service (SERVICE_USER_OWN_PROCESS) named DollhouseTelemetry,
// started automatically. Windows runs one instance of it in each signed-in user's session, as
// that user, so every user has their own daemon, pipe, data root and consent (collection stays
// off until that user agrees). Registering a service needs an administrator once; without
// one, install says so, and dollhousectl keeps starting the daemon on demand.
#include <windows.h>
// clang-format off
#include <knownfolders.h>
#include <shlobj.h>
// clang-format on

#include <cwchar>
#include <iostream>
#include <memory>
#include <vector>

#include "common/win32.hpp"
#include "ctl/daemon_client.hpp"
#include "ctl/service/service_manager.hpp"
#include "windows-service/service_host.hpp"

namespace dollhouse::ctl {

namespace {

using win32::error_text;
using win32::narrow;
using win32::widen;

struct ScHandleCloser {
  void operator()(SC_HANDLE h) const {
    if (h != nullptr) ::CloseServiceHandle(h);
  }
};
using ScHandle = std::unique_ptr<std::remove_pointer_t<SC_HANDLE>, ScHandleCloser>;

int report_scm_error(const std::string& what, DWORD err) {
  std::cerr << "dollhousectl: " << what << ": " << error_text(err) << "\n";
  if (err == ERROR_ACCESS_DENIED) {
    std::cerr << "dollhousectl: registering or removing a Windows service needs an "
                 "administrator once: run this command from an elevated prompt. Until then "
                 "dollhousectl starts the daemon when it is needed.\n";
  }
  return kExitFailed;
}

// Whether `path` lies inside the Program Files folder, which only administrators may change. A
// per-user service runs its program as every user who signs in, so a program that one user
// could replace would run that user's code as everyone else.
bool under_program_files(const std::string& path) {
  wchar_t* folder = nullptr;
  if (FAILED(::SHGetKnownFolderPath(FOLDERID_ProgramFiles, 0, nullptr, &folder))) return false;
  std::wstring root = folder;
  ::CoTaskMemFree(folder);
  std::wstring full(32768, L'\0');
  DWORD n = ::GetFullPathNameW(widen(path).c_str(), static_cast<DWORD>(full.size()), full.data(),
                               nullptr);
  if (n == 0 || n >= full.size()) return false;
  full.resize(n);
  if (root.empty() || root.back() != L'\\') root.push_back(L'\\');
  return full.size() > root.size() &&
         ::CompareStringOrdinal(full.c_str(), static_cast<int>(root.size()), root.c_str(),
                                static_cast<int>(root.size()), TRUE) == CSTR_EQUAL;
}

std::string command_line(const std::string& daemon) {
  return "\"" + daemon + "\" " + winsvc::kServiceFlag;
}

// The running per-user instances ("DollhouseTelemetry_<suffix>").
std::vector<std::wstring> instances(SC_HANDLE scm) {
  std::vector<std::wstring> names;
  DWORD needed = 0;
  DWORD count = 0;
  DWORD resume = 0;
  ::EnumServicesStatusExW(scm, SC_ENUM_PROCESS_INFO, SERVICE_WIN32, SERVICE_STATE_ALL, nullptr, 0,
                          &needed, &count, &resume, nullptr);
  if (needed == 0) return names;
  std::vector<unsigned char> buffer(needed);
  resume = 0;
  if (!::EnumServicesStatusExW(scm, SC_ENUM_PROCESS_INFO, SERVICE_WIN32, SERVICE_STATE_ALL,
                               buffer.data(), needed, &needed, &count, &resume, nullptr)) {
    return names;
  }
  const std::wstring prefix = widen(winsvc::kServiceName) + L"_";
  auto* entries = reinterpret_cast<ENUM_SERVICE_STATUS_PROCESSW*>(buffer.data());
  for (DWORD i = 0; i < count; ++i) {
    std::wstring name = entries[i].lpServiceName;
    if (name.rfind(prefix, 0) == 0) names.push_back(name);
  }
  return names;
}

// How long start and stop wait for the service to report RUNNING or STOPPED.
constexpr DWORD kServiceStateWaitMs = 30'000;

// This sign-in's instance of the per-user service: Windows names it after the logon session,
// "DollhouseTelemetry_<logon session id in hex>".
std::wstring own_instance_name() {
  HANDLE token = nullptr;
  if (!::OpenProcessToken(::GetCurrentProcess(), TOKEN_QUERY, &token)) return {};
  TOKEN_STATISTICS stats{};
  DWORD size = 0;
  const bool ok = ::GetTokenInformation(token, TokenStatistics, &stats, sizeof(stats), &size);
  ::CloseHandle(token);
  if (!ok) return {};
  wchar_t suffix[32];
  const auto id = (static_cast<unsigned long long>(stats.AuthenticationId.HighPart) << 32) |
                  stats.AuthenticationId.LowPart;
  ::swprintf(suffix, 32, L"%llx", id);
  return widen(winsvc::kServiceName) + L"_" + suffix;
}

// The service `start` and `stop` act on: this sign-in's instance of the per-user service, or
// the registration itself where it is an ordinary service (registered by an administrator with
// sc.exe, or under Wine, which has no per-user services). Empty after saying why there is none.
std::wstring service_to_control(SC_HANDLE scm) {
  const std::wstring own = own_instance_name();
  if (!own.empty()) {
    ScHandle instance(::OpenServiceW(scm, own.c_str(), SERVICE_QUERY_STATUS));
    if (instance) return own;
  }
  const std::wstring name = widen(winsvc::kServiceName);
  ScHandle service(::OpenServiceW(scm, name.c_str(), SERVICE_QUERY_CONFIG));
  if (!service) {
    std::cerr << "dollhousectl: the Windows service " << winsvc::kServiceName
              << " is not installed: run `dollhousectl service install` first\n";
    return {};
  }
  DWORD needed = 0;
  ::QueryServiceConfigW(service.get(), nullptr, 0, &needed);
  std::vector<unsigned char> buffer(needed == 0 ? sizeof(QUERY_SERVICE_CONFIGW) : needed);
  auto* config = reinterpret_cast<QUERY_SERVICE_CONFIGW*>(buffer.data());
  if (::QueryServiceConfigW(service.get(), config, static_cast<DWORD>(buffer.size()), &needed) &&
      (config->dwServiceType & winsvc::kUserOwnProcess) != winsvc::kUserOwnProcess) {
    return name;
  }
  std::cerr << "dollhousectl: this sign-in has no instance of " << winsvc::kServiceName
            << " yet; Windows creates it at the next sign-in. Until then dollhousectl starts the "
               "daemon when it is needed\n";
  return {};
}

// Polls the service until it reports `state` or kServiceStateWaitMs pass.
bool wait_for_state(SC_HANDLE service, DWORD state) {
  const ULONGLONG deadline = ::GetTickCount64() + kServiceStateWaitMs;
  for (;;) {
    SERVICE_STATUS status{};
    if (!::QueryServiceStatus(service, &status)) return false;
    if (status.dwCurrentState == state) return true;
    if (::GetTickCount64() >= deadline) return false;
    ::Sleep(100);
  }
}

class WindowsManager final : public ServiceManager {
 public:
  int install(const ServiceOptions& options) override {
    const std::string daemon = daemon_next_to_ctl();
    if (daemon.empty()) return kExitFailed;
    if (!under_program_files(daemon)) {
      std::cerr << "dollhousectl: " << daemon
                << " is not under Program Files. A per-user service runs it as every user who "
                   "signs in, so it must be somewhere only administrators can change: install "
                   "Dollhouse Telemetry under Program Files and run this dollhousectl from there\n";
      return kExitFailed;
    }
    const std::string command = command_line(daemon);
    std::cout << "register: Windows service " << winsvc::kServiceName
              << " (per-user, automatic start): " << command << "\n";
    if (options.dry_run) {
      std::cout << "dry run: nothing was changed\n";
      return kExitOk;
    }
    ScHandle scm(
        ::OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT | SC_MANAGER_CREATE_SERVICE));
    if (!scm) return report_scm_error("cannot open the service control manager", ::GetLastError());
    const std::wstring name = widen(winsvc::kServiceName);
    const std::wstring path = widen(command);
    ScHandle service(::CreateServiceW(
        scm.get(), name.c_str(), widen(winsvc::kServiceDisplayName).c_str(), SERVICE_ALL_ACCESS,
        winsvc::kUserOwnProcess, SERVICE_AUTO_START, SERVICE_ERROR_NORMAL, path.c_str(), nullptr,
        nullptr, nullptr, nullptr, nullptr));
    if (!service && ::GetLastError() == ERROR_SERVICE_EXISTS) {
      // Installed before (perhaps from another directory): point it at this daemon.
      service.reset(::OpenServiceW(scm.get(), name.c_str(), SERVICE_CHANGE_CONFIG));
      if (service && !::ChangeServiceConfigW(service.get(), SERVICE_NO_CHANGE, SERVICE_AUTO_START,
                                             SERVICE_NO_CHANGE, path.c_str(), nullptr, nullptr,
                                             nullptr, nullptr, nullptr, nullptr)) {
        return report_scm_error("cannot update the service", ::GetLastError());
      }
      std::cout << "updated: the service existed and now runs " << command << "\n";
    }
    if (!service && ::GetLastError() == ERROR_INVALID_PARAMETER) {
      std::cerr << "dollhousectl: this Windows does not support per-user services (they need "
                   "Windows 10 version 1607 or later); nothing was registered. dollhousectl "
                   "starts the daemon when it is needed.\n";
      return kExitFailed;
    }
    if (!service) return report_scm_error("cannot register the service", ::GetLastError());
    std::wstring text =
        L"Per-user Dollhouse Telemetry daemon: collects nothing until you agree "
        L"(dollhousectl telemetry consent).";
    SERVICE_DESCRIPTIONW description{text.data()};
    ::ChangeServiceConfig2W(service.get(), SERVICE_CONFIG_DESCRIPTION, &description);
    std::cout << "installed: Windows starts the daemon in each user's session at sign-in; "
                 "until your next sign-in dollhousectl starts it when needed\n";
    return kExitOk;
  }

  int uninstall(const ServiceOptions& options) override {
    ScHandle scm(
        ::OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT | SC_MANAGER_ENUMERATE_SERVICE));
    if (!scm) return report_scm_error("cannot open the service control manager", ::GetLastError());
    bool ok = true;
    for (const std::wstring& instance : instances(scm.get())) {
      std::cout << "stop: " << narrow(instance) << "\n";
      if (options.dry_run) continue;
      ScHandle running(::OpenServiceW(scm.get(), instance.c_str(), SERVICE_STOP));
      SERVICE_STATUS status{};
      if (running) ::ControlService(running.get(), SERVICE_CONTROL_STOP, &status);
    }
    std::cout << "remove: Windows service " << winsvc::kServiceName << "\n";
    if (options.dry_run) {
      std::cout << "dry run: nothing was changed\n";
      return kExitOk;
    }
    ScHandle service(::OpenServiceW(scm.get(), widen(winsvc::kServiceName).c_str(), DELETE));
    if (!service) {
      DWORD err = ::GetLastError();
      if (err == ERROR_SERVICE_DOES_NOT_EXIST) {
        std::cout << "the service was not installed\n";
        return kExitOk;
      }
      return report_scm_error("cannot open the service", err);
    }
    if (!::DeleteService(service.get())) {
      ok = false;
      report_scm_error("cannot remove the service", ::GetLastError());
    }
    return ok ? kExitOk : kExitFailed;
  }

  int status(const ServiceOptions& options) override {
    (void)options;
    ScHandle scm(
        ::OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT | SC_MANAGER_ENUMERATE_SERVICE));
    if (!scm) return report_scm_error("cannot open the service control manager", ::GetLastError());
    ScHandle service(
        ::OpenServiceW(scm.get(), widen(winsvc::kServiceName).c_str(), SERVICE_QUERY_CONFIG));
    if (!service) {
      std::cout << winsvc::kServiceName << ": not installed\n";
      return kExitOk;
    }
    DWORD needed = 0;
    ::QueryServiceConfigW(service.get(), nullptr, 0, &needed);
    std::vector<unsigned char> buffer(needed == 0 ? sizeof(QUERY_SERVICE_CONFIGW) : needed);
    auto* config = reinterpret_cast<QUERY_SERVICE_CONFIGW*>(buffer.data());
    if (::QueryServiceConfigW(service.get(), config, static_cast<DWORD>(buffer.size()), &needed)) {
      std::cout << winsvc::kServiceName << ": installed (" << narrow(config->lpBinaryPathName)
                << ")\n";
    } else {
      std::cout << winsvc::kServiceName << ": installed\n";
    }
    auto running = instances(scm.get());
    std::cout << "instances: " << running.size() << "\n";
    for (const auto& instance : running) std::cout << "  " << narrow(instance) << "\n";
    return kExitOk;
  }

  int start(const ServiceOptions& options) override {
    return control(options, "start", SERVICE_START, [](SC_HANDLE service) {
      if (!::StartServiceW(service, 0, nullptr)) {
        const DWORD err = ::GetLastError();
        if (err != ERROR_SERVICE_ALREADY_RUNNING) {
          return report_scm_error("cannot start the service", err);
        }
        std::cout << "already running\n";
        return kExitOk;
      }
      if (!wait_for_state(service, SERVICE_RUNNING)) {
        std::cerr << "dollhousectl: the service did not report RUNNING within "
                  << kServiceStateWaitMs / 1000
                  << " s; its log is <data root>\\logs\\telemetryd.log\n";
        return kExitFailed;
      }
      std::cout << "running\n";
      return kExitOk;
    });
  }

  int stop(const ServiceOptions& options) override {
    return control(options, "stop", SERVICE_STOP, [](SC_HANDLE service) {
      SERVICE_STATUS status{};
      if (!::ControlService(service, SERVICE_CONTROL_STOP, &status)) {
        const DWORD err = ::GetLastError();
        if (err != ERROR_SERVICE_NOT_ACTIVE)
          return report_scm_error("cannot stop the service", err);
        std::cout << "not running\n";
        return kExitOk;
      }
      if (!wait_for_state(service, SERVICE_STOPPED)) {
        std::cerr << "dollhousectl: the service did not report STOPPED within "
                  << kServiceStateWaitMs / 1000 << " s\n";
        return kExitFailed;
      }
      std::cout << "stopped: queued events stay queued; `dollhousectl service start` or the "
                   "next sign-in starts it again\n";
      return kExitOk;
    });
  }

 private:
  // What start and stop share: the service to act on (service_to_control), the step printed,
  // nothing more in a dry run, else `act` on the service opened with `access` and the right to
  // query its state.
  template <typename Act>
  static int control(const ServiceOptions& options, const char* verb, DWORD access, Act act) {
    ScHandle scm(::OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT));
    if (!scm) return report_scm_error("cannot open the service control manager", ::GetLastError());
    const std::wstring name = service_to_control(scm.get());
    if (name.empty()) return kExitFailed;
    std::cout << verb << ": " << narrow(name) << "\n";
    if (options.dry_run) {
      std::cout << "dry run: nothing was changed\n";
      return kExitOk;
    }
    ScHandle service(::OpenServiceW(scm.get(), name.c_str(), access | SERVICE_QUERY_STATUS));
    if (!service) return report_scm_error("cannot open the service", ::GetLastError());
    return act(service.get());
  }
};

}  // namespace

std::unique_ptr<ServiceManager> make_windows_manager() {
  return std::make_unique<WindowsManager>();
}

}  // namespace dollhouse::ctl
