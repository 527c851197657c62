// Turns one line from a connection into one command call: parses the request (wire protocol v1),
// finds the op in the command table, and answers what cannot be handled (bad framing, unknown
// op, a handler that threw) with an error reply, counted under protocolErrors.
//
// I/O thread only.
#pragma once

#include <memory>

#include "daemon/commands/command_context.hpp"
#include "daemon/connection.hpp"
#include "ipc/framing.hpp"

namespace dollhouse::daemon {

class Dispatcher {
 public:
  explicit Dispatcher(CommandContext& context) : context_(context) {}
  void dispatch(const std::shared_ptr<Connection>& connection, const ipc::Frame& frame);

 private:
  CommandContext& context_;
};

}  // namespace dollhouse::daemon
