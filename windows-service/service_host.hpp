// The Windows service wrapper: runs a program body as a service under the service control
// manager (SCM). It reports START_PENDING, then RUNNING once the body says it serves, accepts
// STOP, SHUTDOWN and PRESHUTDOWN (turned into the body's own stop request, as SIGTERM is on
// POSIX), reports STOP_PENDING while the body finishes, and STOPPED with the body's exit code.
//
// Logging goes through the `log` callback the caller passes (the daemon writes it to its
// rotated log file, <data root>\logs\telemetryd.log); nothing is written to the console, which
// a service does not have.
#pragma once

#ifdef _WIN32

#include <functional>
#include <string>
#include <string_view>

#include "common/status.hpp"

namespace dollhouse::winsvc {

// The name `dollhousectl service install` registers. A per-user service: Windows runs one
// instance, named "<name>_<suffix>", in each signed-in user's session, as that user.
inline constexpr const char* kServiceName = "DollhouseTelemetry";
inline constexpr const char* kServiceDisplayName = "Dollhouse Telemetry";
// The daemon's argument that makes it run under the SCM.
inline constexpr const char* kServiceFlag = "--service";
// SERVICE_USER_SERVICE | SERVICE_WIN32_OWN_PROCESS, which older headers do not name.
inline constexpr unsigned long kUserOwnProcess = 0x50;
// How long the SCM is told to wait for a stop before it may give up on the service.
inline constexpr unsigned long kStopWaitHintMs = 15000;

// Gives the body a way to tell the wrapper it serves. `request_stop` is what the wrapper calls
// (from the SCM's thread) when the SCM asks the service to stop.
using ReadyCallback = std::function<void(std::function<void()> request_stop)>;
// The program: serves until asked to stop, then returns its exit code.
using ServiceBody = std::function<int(const ReadyCallback& ready)>;
using ServiceLog = std::function<void(std::string_view message)>;

// Connects this process to the SCM and runs `body` as the service. Returns the body's exit
// code once the SCM has been told the service stopped. Error "not_a_service" when the process
// was not started by the SCM (run it from a console without --service instead).
Result<int> run_as_service(ServiceBody body, ServiceLog log);

}  // namespace dollhouse::winsvc

#endif  // _WIN32
