#include "daemon/logging.hpp"

#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "common/native_path.hpp"
#include "daemon/settings.hpp"
#include "ipc/private_directory.hpp"

namespace dollhouse::daemon {

Status setup_logging(const std::string& logs_dir, const std::string& level) {
  auto parsed = spdlog::level::from_str(level);
  if (parsed == spdlog::level::off && level != "off") {
    return Status::error(
        "usage", "unknown log level \"" + level + "\": use trace, debug, info, warn, error or off");
  }
  if (Status st = ipc::prepare_private_directory(logs_dir); !st) return st;
  try {
    auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    // spdlog names files with filename_t: UTF-16 when built with SPDLOG_WCHAR_FILENAMES (as a
    // Windows build should be, so that any profile path works), else narrow text.
#if defined(_WIN32) && !defined(SPDLOG_WCHAR_FILENAMES)
    const spdlog::filename_t log_file = logs_dir + "/telemetryd.log";  // ANSI code page
#else
    const spdlog::filename_t log_file = native_path(logs_dir + "/telemetryd.log").native();
#endif
    auto file =
        std::make_shared<spdlog::sinks::rotating_file_sink_mt>(log_file, kLogFileBytes, kLogFiles);
    auto logger =
        std::make_shared<spdlog::logger>("telemetryd", spdlog::sinks_init_list{console, file});
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");
    logger->set_level(parsed);
    logger->flush_on(spdlog::level::info);
    spdlog::set_default_logger(logger);
  } catch (const spdlog::spdlog_ex& e) {
    return Status::error("io_error", std::string("cannot open the log file: ") + e.what());
  }
  return Status::ok();
}

}  // namespace dollhouse::daemon
