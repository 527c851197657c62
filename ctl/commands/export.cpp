// dollhousectl telemetry export [--output FILE]
#include <iostream>

#include "common/private_file.hpp"
#include "ctl/commands/commands.hpp"

namespace dollhouse::ctl {

namespace {

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
