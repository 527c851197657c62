// POST /api/v1/telemetry (alias /api/v1/events): one batch from a daemon.
//
// Body: {"installId": uuid, "batchId": uuid, "events": [stamped events]}. Every event runs
// through the shared privacy engine again; events it rejects (PII still present, schema
// violations) or whose installId differs from the batch's are counted and never stored.
// A batch id seen before is acknowledged with duplicate = true and nothing is stored again.
// Reply: 202 {"accepted":N,"rejected":M,"duplicate":bool,"rejections":[…]}.
#include <spdlog/spdlog.h>

#include "common/json_text.hpp"
#include "server/aggregation/rollup.hpp"
#include "server/routes/routes.hpp"

namespace dollhouse::server {

namespace {

using nlohmann::json;

constexpr std::size_t kMaxRejectionsReported = 20;
// Deepest nesting of arrays and objects a batch may have. A daemon's batch is four levels deep
// (batch, events, event, platform); the JSON library copies and frees values recursively, so a
// body of a few kilobytes nested thousands deep would otherwise exhaust the stack.
constexpr std::size_t kMaxBatchNestingDepth = 32;

Response bad_request(std::string_view code, std::string_view message) {
  return Response::error(400, code, message);
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

// The media type is application/json, with or without parameters ("; charset=utf-8"); not a
// longer type that merely starts the same ("application/jsonp").
bool is_json_media_type(std::string_view content_type) {
  constexpr std::string_view kJson = "application/json";
  if (!starts_with_ci(content_type, kJson)) return false;
  const std::string_view rest = content_type.substr(kJson.size());
  return rest.empty() || rest.front() == ';' || rest.front() == ' ' || rest.front() == '\t';
}

const std::string* uuid_field(const json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || !it->is_string()) return nullptr;
  const std::string& s = it->get_ref<const std::string&>();
  return is_uuid(s) ? &s : nullptr;
}

}  // namespace

Response handle_ingest(ServerContext& ctx, const Request& req) {
  const SystemTime now = ctx.clock.now();
  if (BucketDecision d = ctx.write_limiter.take(now); !d.allowed) {
    ctx.counters.rate_limited++;
    Response r = Response::error(429, "rate_limited", "too many requests; retry later");
    r.headers.emplace_back("Retry-After", std::to_string(d.retry_after_seconds));
    return r;
  }
  if (!is_json_media_type(req.content_type)) {
    return Response::error(415, "unsupported_media_type", "send Content-Type: application/json");
  }
  if (!req.telemetry_version.empty() && req.telemetry_version != "1" &&
      req.telemetry_version.rfind("1.", 0) != 0) {
    return bad_request("unsupported_version", "this server speaks X-Telemetry-Version 1.x");
  }
  // Checked before the parser, whose recursion it bounds.
  if (static_cast<std::size_t>(json_nesting_depth(req.body)) > kMaxBatchNestingDepth) {
    return bad_request("too_deep", "the body nests arrays and objects more than " +
                                       std::to_string(kMaxBatchNestingDepth) + " levels deep");
  }
  const json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return bad_request("invalid_json", "the body is not valid JSON");
  if (!body.is_object()) return bad_request("invalid_batch", "the body must be a JSON object");
  const std::string* install_id = uuid_field(body, "installId");
  if (!install_id) return bad_request("invalid_batch", "/installId must be a UUID");
  const std::string* batch_id = uuid_field(body, "batchId");
  if (!batch_id) return bad_request("invalid_batch", "/batchId must be a UUID");
  if (!req.idempotency_key.empty() && req.idempotency_key != *batch_id) {
    return bad_request("invalid_batch", "Idempotency-Key must equal /batchId");
  }
  auto events_it = body.find("events");
  if (events_it == body.end() || !events_it->is_array()) {
    return bad_request("invalid_batch", "/events must be an array");
  }
  if (events_it->size() > ctx.limits.max_events_per_batch) {
    return Response::error(
        413, "too_many_events",
        "at most " + std::to_string(ctx.limits.max_events_per_batch) + " events per batch");
  }

  IngestBatch batch;
  batch.batch_id = *batch_id;
  batch.install_id = *install_id;
  batch.received_at = now;
  json rejections = json::array();
  std::map<std::string, std::size_t> rejected_by_code;
  std::size_t index = 0;
  for (const json& raw : *events_it) {
    privacy::Outcome outcome = privacy::process_stamped_event(raw, ctx.scrubber);
    std::string code, path;
    if (!outcome.ok) {
      code = std::string(privacy::to_string(outcome.rejection.code));
      path = outcome.rejection.path;
    } else if (outcome.event.value("installId", std::string()) != *install_id) {
      code = "install_mismatch";
      path = "/installId";
    }
    if (code.empty()) {
      const json& event = outcome.event;
      batch.events.push_back({event.value("eventType", std::string()), event_day(event, now),
                              event.dump(), event_app(event), event.value("version", ""),
                              crash_signature(event)});
    } else {
      rejected_by_code[code]++;
      if (rejections.size() < kMaxRejectionsReported) {
        // The reason only (path and code); never the rejected value.
        rejections.push_back({{"index", index}, {"code", code}, {"path", path}});
      }
    }
    ++index;
  }
  batch.rejected = index - batch.events.size();

  auto stored = ctx.storage.ingest_batch(batch);
  if (!stored) return storage_failure(ctx, stored.status());
  if (stored->duplicate) {
    ctx.counters.batches_duplicate++;
    spdlog::debug("duplicate batch acknowledged");
    return Response::json(
        202, {{"accepted", stored->accepted}, {"rejected", stored->rejected}, {"duplicate", true}});
  }
  ctx.counters.batches_stored++;
  ctx.counters.events_accepted += stored->accepted;
  ctx.counters.events_rejected += stored->rejected;
  if (!rejected_by_code.empty()) {
    if (auto pii = rejected_by_code.find("pii_detected"); pii != rejected_by_code.end()) {
      ctx.counters.events_rejected_pii += pii->second;
    }
    AggregateRows rows;
    for (const auto& [code, n] : rejected_by_code) {
      // Under no app: a rejected event's fields are not trusted.
      rows[{utc_day(now), "", "rejected", code}] += static_cast<double>(n);
    }
    if (Status st = ctx.storage.add_aggregates(rows); !st) {
      spdlog::warn("could not count rejected events: {}", st.message());
    }
    spdlog::info("batch stored: {} events accepted, {} rejected", stored->accepted,
                 stored->rejected);
  } else {
    spdlog::debug("batch stored: {} events accepted", stored->accepted);
  }
  json reply = {
      {"accepted", stored->accepted}, {"rejected", stored->rejected}, {"duplicate", false}};
  if (!rejections.empty()) reply["rejections"] = rejections;
  return Response::json(202, reply);
}

}  // namespace dollhouse::server
