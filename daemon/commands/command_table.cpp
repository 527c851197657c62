#include "daemon/commands/command_table.hpp"

#include <array>
#include <utility>

namespace dollhouse::daemon {

CommandHandler find_command(std::string_view op) {
  static constexpr std::array<std::pair<std::string_view, CommandHandler>, 10> kCommands = {{
      {"hello", handle_hello},
      {"track", handle_track},
      {"usage", handle_usage},
      {"sync", handle_sync},
      {"status", handle_status},
      {"consent", handle_consent},
      {"show", handle_show},
      {"delete", handle_delete},
      {"export", handle_export},
      {"flush", handle_flush},
  }};
  for (const auto& [name, handler] : kCommands) {
    if (name == op) return handler;
  }
  return nullptr;
}

}  // namespace dollhouse::daemon
