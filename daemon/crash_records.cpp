#include "daemon/crash_records.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <limits>
#include <system_error>
#include <vector>

#include "daemon/counters.hpp"
#include "daemon/event_stamp.hpp"
#include "privacy/privacy.hpp"
#include "privacy/vocabulary.hpp"

namespace dollhouse::daemon {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::string_view kRecordSuffix = ".json";
constexpr std::string_view kTempSuffix = ".tmp";
constexpr std::string_view kClaimedSuffix = ".claimed";

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

std::optional<std::int64_t> parse_digits(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

// An optional string field of the record: "" when absent or null, nullopt when not a string.
std::optional<std::string> optional_string(const json& record, const char* key) {
  auto it = record.find(key);
  if (it == record.end() || it->is_null()) return std::string();
  if (!it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

// One record this scan takes: where it is now and how old it is.
struct Candidate {
  fs::path path;
  std::string name;      // the file name without .json / .claimed
  std::int64_t time_ms;  // from the name; unparsable names sort last
};

std::optional<std::string> read_small_file(const fs::path& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec || size > kMaxCrashRecordBytes) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string text(static_cast<std::size_t>(size), '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (static_cast<std::size_t>(in.gcount()) != text.size()) return std::nullopt;
  // Grown since the size was read: still no more than the limit is accepted.
  if (in.peek() != std::char_traits<char>::eof()) return std::nullopt;
  return text;
}

void remove_quietly(const fs::path& path) {
  std::error_code ec;
  fs::remove(path, ec);
  if (ec) spdlog::warn("crash record {}: cannot delete it: {}", path.string(), ec.message());
}

// Puts a claimed record back under its .json name, for the next scan to take.
void release(const fs::path& claimed, const fs::path& record) {
  std::error_code ec;
  fs::rename(claimed, record, ec);
  if (ec) spdlog::warn("crash record {}: cannot put it back: {}", record.string(), ec.message());
}

void count_dropped(CommandContext& ctx, const std::string& app, ipc::DropReason reason) {
  ctx.storage.count(counter::dropped(reason));
  if (!app.empty()) ctx.apps.count_dropped(app);
}

}  // namespace

std::string crash_directory(const std::string& data_root) {
  return (fs::path(data_root) / "crashes").string();
}

Status prepare_crash_directory(const std::string& data_root) {
  const fs::path dir = crash_directory(data_root);
  std::error_code ec;
  if (fs::create_directory(dir, ec)) {
    fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  }
  if (ec) {
    return Status::error("io", "cannot create " + dir.string() + ": " + ec.message());
  }
  return Status::ok();
}

std::string crash_file_app_part(std::string_view app) {
  std::string out(app);
  for (char& c : out) {
    const bool keep =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
    if (!keep) c = '_';
  }
  return out;
}

std::optional<CrashFileName> parse_crash_file_name(std::string_view file_name) {
  if (!ends_with(file_name, kRecordSuffix)) return std::nullopt;
  std::string_view stem = file_name.substr(0, file_name.size() - kRecordSuffix.size());
  // The app part may hold '-' itself, so the two numbers are found from the right.
  const auto last = stem.rfind('-');
  if (last == std::string_view::npos || last == 0) return std::nullopt;
  const auto middle = stem.rfind('-', last - 1);
  if (middle == std::string_view::npos || middle == 0) return std::nullopt;
  auto pid = parse_digits(stem.substr(middle + 1, last - middle - 1));
  auto time_ms = parse_digits(stem.substr(last + 1));
  if (!pid || !time_ms) return std::nullopt;
  return CrashFileName{std::string(stem.substr(0, middle)), *pid, *time_ms};
}

Result<CrashRecord> parse_crash_record(std::string_view text) {
  auto invalid = [](std::string why) { return Status::error("invalid_event", std::move(why)); };
  if (text.size() > kMaxCrashRecordBytes) {
    return invalid("larger than " + std::to_string(kMaxCrashRecordBytes) + " bytes");
  }
  json record = json::parse(text, nullptr, false);
  if (record.is_discarded() || !record.is_object()) return invalid("not a JSON object");
  auto v = record.find("v");
  if (v == record.end() || !v->is_number_integer() ||
      v->get<std::int64_t>() != kCrashRecordVersion) {
    return invalid("unknown record version");
  }
  auto app = optional_string(record, "app");
  if (!app || !privacy::is_app_name(*app)) return invalid("app is not an app name");
  auto app_version = optional_string(record, "appVersion");
  if (!app_version || app_version->empty() || app_version->size() > privacy::kMaxVersionLength ||
      !privacy::cut_to_major_minor(*app_version)) {
    return invalid("appVersion is not a version");
  }
  auto node_version = optional_string(record, "nodeVersion");
  auto mcp_client = optional_string(record, "mcpClient");
  if (!node_version || !mcp_client) return invalid("nodeVersion and mcpClient must be strings");
  auto time = record.find("time");
  if (time == record.end() || !time->is_number_integer() || time->get<std::int64_t>() < 0) {
    return invalid("time must be unix milliseconds");
  }
  auto event = record.find("event");
  if (event == record.end() || !event->is_object()) return invalid("event must be an object");

  CrashRecord out;
  out.app.known = true;
  out.app.app = *app;
  out.app.app_version = *app_version;
  if (!node_version->empty()) {
    out.app.node_version = privacy::cut_to_major_minor(*node_version).value_or("");
  }
  out.app.mcp_client = privacy::normalize_mcp_client(*mcp_client);
  out.time_ms = time->get<std::int64_t>();
  out.event = std::move(*event);
  return out;
}

CrashScanCounts scan_crash_records(CommandContext& ctx, const std::optional<std::string>& app) {
  CrashScanCounts counts;
  const fs::path dir = crash_directory(ctx.facts.data_root);
  const std::optional<std::string> wanted_part =
      app ? std::optional<std::string>(crash_file_app_part(*app)) : std::nullopt;
  std::vector<Candidate> candidates;
  std::error_code ec;
  const auto file_now = fs::file_time_type::clock::now();
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (!it->is_regular_file(type_ec)) continue;
    const std::string name = it->path().filename().string();
    if (ends_with(name, kTempSuffix)) {
      auto written = fs::last_write_time(it->path(), type_ec);
      if (!type_ec && is_stale_crash_temp(written, file_now)) {
        remove_quietly(it->path());
        ++counts.stale_tmp;
      }
      continue;
    }
    std::string stem;
    if (ends_with(name, kRecordSuffix)) {
      stem = name.substr(0, name.size() - kRecordSuffix.size());
    } else if (!app && ends_with(name, kClaimedSuffix)) {
      // Claimed by an earlier run that stopped before the commit; only a start scan sees these,
      // since during a run they belong to an event on its way.
      stem = name.substr(0, name.size() - kClaimedSuffix.size());
      if (!ends_with(stem, kRecordSuffix)) continue;
      stem.resize(stem.size() - kRecordSuffix.size());
    } else {
      continue;
    }
    auto parsed = parse_crash_file_name(stem + std::string(kRecordSuffix));
    if (wanted_part && (!parsed || parsed->app_part != *wanted_part)) continue;
    candidates.push_back(
        {it->path(), stem, parsed ? parsed->time_ms : std::numeric_limits<std::int64_t>::max()});
  }
  if (ec && ec != std::errc::no_such_file_or_directory) {
    spdlog::warn("crash records: cannot read {}: {}", dir.string(), ec.message());
  }
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    return a.time_ms != b.time_ms ? a.time_ms < b.time_ms : a.name < b.name;
  });
  if (candidates.size() > kMaxCrashRecordsPerScan) candidates.resize(kMaxCrashRecordsPerScan);

  const SystemTime now = ctx.clock.now();
  const std::int64_t now_ms = to_unix_millis(now);
  for (const Candidate& candidate : candidates) {
    const fs::path record_path = dir / (candidate.name + std::string(kRecordSuffix));
    const fs::path claimed_path =
        dir / (candidate.name + std::string(kRecordSuffix) + std::string(kClaimedSuffix));
    if (candidate.path != claimed_path) {
      std::error_code rename_ec;
      fs::rename(candidate.path, claimed_path, rename_ec);
      if (rename_ec) continue;  // gone meanwhile, or not ours to move
    }
    ++counts.taken;
    auto text = read_small_file(claimed_path);
    Result<CrashRecord> record =
        text ? parse_crash_record(*text)
             : Result<CrashRecord>(Status::error("invalid_event", "unreadable or too large"));
    if (!record) {
      spdlog::info("crash record {}: dropped: {}", candidate.name, record.status().message());
      remove_quietly(claimed_path);
      count_dropped(ctx, "", ipc::DropReason::kInvalidEvent);
      ++counts.dropped;
      continue;
    }
    if (app && record->app.app != *app) {
      // Another app whose name maps to the same file name; its own hello takes it.
      release(claimed_path, record_path);
      continue;
    }
    const std::string& app_name = record->app.app;
    if (auto reason = ctx.consent.drop_reason_for("crash", app_name)) {
      remove_quietly(claimed_path);
      count_dropped(ctx, app_name, *reason);
      ++counts.dropped;
      continue;
    }
    privacy::Outcome outcome = privacy::process_app_event(record->event, ctx.scrubber);
    const bool is_crash = outcome.ok && outcome.event.value("eventType", "") == "crash";
    if (!is_crash) {
      const bool pii =
          !outcome.ok && outcome.rejection.code == privacy::RejectionCode::kPiiDetected;
      spdlog::info("crash record {}: dropped: {}", candidate.name,
                   outcome.ok ? "the event is not a crash" : outcome.rejection.message);
      remove_quietly(claimed_path);
      count_dropped(ctx, app_name,
                    pii ? ipc::DropReason::kPiiDetected : ipc::DropReason::kInvalidEvent);
      ++counts.dropped;
      continue;
    }
    if (outcome.dropped_fields > 0) {
      ctx.storage.count(counter::kFieldsDroppedUnknown,
                        static_cast<std::int64_t>(outcome.dropped_fields));
    }
    // A clock that ran ahead in the crashed app does not date the event into the future.
    const SystemTime crashed_at = from_unix_millis(std::min(record->time_ms, now_ms));
    json stamped = stamp_event(std::move(outcome.event), record->app, ctx.platform,
                               ctx.consent.config().install_id, crashed_at);
    StorageChannel& storage = ctx.storage;
    Uploader& uploader = ctx.uploader;
    AppRegistry& apps = ctx.apps;
    storage.post([&storage, &uploader, &apps, claimed_path, record_path, now_ms, app_name,
                  body = stamped.dump()](StorageContext& sc) {
      const bool appended = sc.store.append(now_ms, "crash", app_name, body).is_ok();
      if (appended) {
        sc.appended = true;
        sc.count(counter::kAccepted);
      } else {
        sc.count(counter::dropped(ipc::DropReason::kStorageError));
      }
      storage.after_commit(sc, [&uploader, &apps, claimed_path, record_path, app_name,
                                appended](const Status& commit) {
        if (appended && commit) {
          remove_quietly(claimed_path);
          uploader.on_events_accepted(1);
          apps.count_accepted(app_name);
        } else {
          // The database could not take it: the record waits for the next scan.
          release(claimed_path, record_path);
        }
      });
    });
    ++counts.posted;
  }
  if (counts.taken > 0 || counts.stale_tmp > 0) {
    spdlog::info("crash records: took {} ({} to store, {} dropped), deleted {} leftover .tmp",
                 counts.taken, counts.posted, counts.dropped, counts.stale_tmp);
  }
  return counts;
}

}  // namespace dollhouse::daemon
