// dollhousectl telemetry export [--output FILE]
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "ctl/commands/commands.hpp"

namespace dollhouse::ctl {

namespace {

// Writes `text` to `path` readable by the user only, replacing it atomically.
Status write_private_file(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  // O_EXCL: never write into a temporary file someone else (or an earlier run) left, whose
  // mode or owner could expose the export.
  ::unlink(tmp.c_str());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return Status::error("io_error", "cannot write " + path + ": " + std::strerror(errno));
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      ::unlink(tmp.c_str());
      return Status::error("io_error", "cannot write " + path + ": " + std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Status::error("io_error", "cannot write " + path + ": " + std::strerror(errno));
  }
  return Status::ok();
}

int export_data(DaemonClient& client, const std::string& output) {
  auto reply = client.request("export", nlohmann::json::object(), std::chrono::seconds(120));
  if (!reply) return report_failure(reply.status());
  if (!reply->value("ok", false)) return report_error_reply(*reply);
  std::string text = (*reply)["export"].dump(2) + "\n";
  if (output.empty() || output == "-") {
    std::cout << text;
    return kExitOk;
  }
  if (Status st = write_private_file(output, text); !st) return report_failure(st);
  std::cerr << "Exported " << (*reply)["export"]["events"].size() << " events to " << output
            << "\n";
  return kExitOk;
}

}  // namespace

void add_export_command(CLI::App& parent, GlobalOptions& global, Action& run) {
  auto output = std::make_shared<std::string>();
  auto* cmd = parent.add_subcommand("export", "Export everything stored locally as JSON");
  cmd->add_option("--output,-o", *output, "File to write (mode 0600); default: standard output");
  cmd->add_flag("--json", global.json, "Accepted for symmetry; the export is always JSON");
  cmd->callback(
      [&run, output] { run = [output](DaemonClient& c) { return export_data(c, *output); }; });
}

}  // namespace dollhouse::ctl
