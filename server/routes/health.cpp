// GET /healthz: 200 when storage answers, 503 when it does not. Reports counters only.
#include "server/routes/routes.hpp"

namespace dollhouse::server {

Response handle_health(ServerContext& ctx, const Request&) {
  const auto uptime =
      std::chrono::duration_cast<std::chrono::seconds>(ctx.clock.now() - ctx.started_at);
  const Counters& c = ctx.counters;
  nlohmann::json body = {
      {"status", "ok"},
      {"version", DOLLHOUSE_VERSION},
      {"storage", ctx.storage.kind()},
      {"uptimeSeconds", uptime.count()},
      {"counters",
       {{"requests", c.requests.load()},
        {"batchesStored", c.batches_stored.load()},
        {"batchesDuplicate", c.batches_duplicate.load()},
        {"eventsAccepted", c.events_accepted.load()},
        {"eventsRejected", c.events_rejected.load()},
        {"eventsRejectedPii", c.events_rejected_pii.load()},
        {"rateLimited", c.rate_limited.load()},
        {"overloaded", c.overloaded.load()},
        {"deletions", c.deletions.load()},
        {"connectionsOpen", c.connections_open.load()}}},
  };
  auto counts = ctx.storage.counts();
  if (!counts) {
    body["status"] = "unavailable";
    Response r = Response::json(503, body);
    r.headers.emplace_back("Retry-After", "5");
    return r;
  }
  body["rawEvents"] = counts->raw_events;
  body["batchIds"] = counts->batches;
  body["deletionRecords"] = counts->deletions;
  Response r = Response::json(200, body);
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

}  // namespace dollhouse::server
