// The wire protocol's request decoder (ipc/protocol.hpp): parse_request, recover_id, recover_op
// and the replies built from what they return, over arbitrary lines.
//
// The input is a stream; the daemon's own framer (at ipc::kMaxLineBytes) cuts it into frames,
// and every frame is decoded both as a complete line and as the kept prefix of an oversize line.
// Checked, for every frame:
// - an accepted request is a JSON object with "v" equal to 1, a non-empty string "op" and an id
//   that is null, a 64-bit integer or a string of at most kMaxIdLength bytes;
// - a refused one carries such an id too (or null), so its reply can always be written;
// - every reply is one line of JSON ending in "\n", with that id, and "ok" true or false;
// - an accepted request written out again as JSON is accepted again as the same request.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fuzz/fuzz_checks.hpp"
#include "ipc/framing.hpp"
#include "ipc/protocol.hpp"

namespace {

using dollhouse::fuzz::check;
using nlohmann::json;
namespace ipc = dollhouse::ipc;

bool is_usable_id(const json& id) {
  if (id.is_null() || id.is_number_integer()) {
    return !id.is_number_unsigned() ||
           id.get<std::uint64_t>() <=
               static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  }
  return id.is_string() && id.get_ref<const std::string&>().size() <= ipc::kMaxIdLength;
}

// A reply line: one JSON object, newline-terminated, naming `id`.
void check_reply(const std::string& line, const json& id, bool ok) {
  check(!line.empty() && line.back() == '\n', "a reply does not end in a newline");
  check(line.find('\n') == line.size() - 1, "a reply spans more than one line");
  const json reply = json::parse(line, nullptr, false);
  check(reply.is_object(), "a reply is not a JSON object");
  check(reply.contains("id") && reply["id"] == id, "a reply does not carry the request's id");
  check(reply.contains("ok") && reply["ok"] == ok, "a reply's \"ok\" is wrong");
}

void decode(const ipc::Frame& frame) {
  const ipc::ParseResult parsed = ipc::parse_request(frame);
  if (parsed.request) {
    check(!frame.oversize, "an oversize line was accepted");
    const ipc::Request& req = *parsed.request;
    check(req.body.is_object(), "an accepted request is not an object");
    check(!req.op.empty() && req.body.value("op", std::string()) == req.op,
          "an accepted request has no op, or not the one in its body");
    check(is_usable_id(req.id), "an accepted request has an unusable id");
    check(req.body.contains("v") && req.body["v"].is_number() && req.body["v"] == 1,
          "an accepted request does not speak version 1");
    check_reply(ipc::ok_reply(req.id, {{"echo", req.body}}), req.id, true);

    const ipc::ParseResult again =
        ipc::parse_request(ipc::Frame{req.body.dump(-1, ' ', false), false});
    check(again.request.has_value(), "an accepted request, written out again, is refused");
    check(again.request->op == req.op && again.request->id == req.id &&
              again.request->body == req.body,
          "an accepted request, written out again, reads differently");
  } else {
    check(is_usable_id(parsed.error.id), "a refused request carries an unusable id");
    check(!parsed.error.message.empty(), "a refused request has no message");
    check_reply(ipc::error_reply(parsed.error.id, parsed.error.code, parsed.error.message),
                parsed.error.id, false);
  }
  check(is_usable_id(ipc::recover_id(frame.line)), "recover_id returned an unusable id");
  (void)ipc::recover_op(frame.line);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ipc::LineFramer framer(ipc::kMaxLineBytes);
  framer.feed(std::string_view(reinterpret_cast<const char*>(data), size));
  framer.feed("\n");  // the last line counts even without its newline
  while (auto frame = framer.next()) {
    decode(*frame);
    decode(ipc::Frame{frame->line, true});
  }
  return 0;
}
