// DELETE /api/v1/telemetry/{installId}: removes every raw event of that installation.
//
// 204 when events were removed, 404 when none were held (also for a repeated request): both
// leave the server holding nothing for the id, so clients treat both as done. The deletion is
// recorded (time and count) without the id; the log line never names it either.
#include <spdlog/spdlog.h>

#include "server/routes/routes.hpp"

namespace dollhouse::server {

Response handle_delete(ServerContext& ctx, const Request&, std::string_view install_id) {
  const std::string id(install_id);
  if (!is_uuid(id)) {
    return Response::error(400, "invalid_install_id", "the installId must be a UUID");
  }
  if (BucketDecision d = ctx.write_limiter.take(ctx.clock.now()); !d.allowed) {
    ctx.counters.rate_limited++;
    Response r = Response::error(429, "rate_limited", "too many requests; retry later");
    r.headers.emplace_back("Retry-After", std::to_string(d.retry_after_seconds));
    return r;
  }
  auto removed = ctx.storage.delete_installation(id, ctx.clock.now());
  if (!removed) return storage_failure(ctx, removed.status());
  ctx.counters.deletions++;
  spdlog::info("deletion request honoured: {} raw events removed", *removed);
  if (*removed == 0) {
    return Response::error(404, "not_found", "no raw events are held for this installation");
  }
  Response r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

}  // namespace dollhouse::server
