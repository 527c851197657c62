// Storage for the reference server: raw events (kept at most about a day), the batch ids seen
// (for deduplication), daily aggregates per app (counts only, never an installId), the days
// whose distinct-installation counts are final, and a record of deletions (time and count only).
//
// One interface, two implementations: SQLite (one file, the default) and PostgreSQL (several
// stateless server instances sharing one database). Both pass the same contract test suite.
// Every call returns a Status or Result the caller must check. Implementations are thread-safe:
// any thread may call any method at any time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "common/clock.hpp"
#include "common/status.hpp"

namespace dollhouse::server {

// One counter of the daily aggregates: on `day` (YYYY-MM-DD, UTC), for `app` (the event's app;
// "" when it named none, kAllApps for figures of all apps together), `metric`
// ("installations.os") broken down by `dim` ("linux").
struct AggregateKey {
  std::string day;
  std::string app;
  std::string metric;
  std::string dim;
  friend bool operator<(const AggregateKey& a, const AggregateKey& b) {
    return std::tie(a.day, a.app, a.metric, a.dim) < std::tie(b.day, b.app, b.metric, b.dim);
  }
  friend bool operator==(const AggregateKey&, const AggregateKey&) = default;
};

// The app of counters that belong to no single app: distinct installations of all apps
// together (an installation running two apps is one installation). No app name can be "*".
inline constexpr const char* kAllApps = "*";
using AggregateRows = std::map<AggregateKey, double>;

// A validated, scrubbed event ready to store. `day` is its UTC date (YYYY-MM-DD). `app`,
// `version` and `signature` repeat fields of the body as columns, so that distinct
// installations can be counted in the database.
struct NewEvent {
  std::string event_type;
  std::string day;
  std::string body;       // the cleaned event as compact JSON
  std::string app;        // "" when the event names none
  std::string version;    // the app's version
  std::string signature;  // crash and error: crash_signature(); "" otherwise
};

struct IngestBatch {
  std::string batch_id;
  std::string install_id;
  SystemTime received_at;
  std::vector<NewEvent> events;
  std::size_t rejected = 0;  // events of this batch that were not accepted
};

struct IngestResult {
  bool duplicate = false;
  std::size_t accepted = 0;  // for a duplicate: what the first delivery accepted
  std::size_t rejected = 0;
};

// A raw event as the rollup sees it: no installId column, only the day and the cleaned body.
struct StoredEvent {
  std::string event_type;
  std::string day;
  std::string body;
};

// Distinct installations among the raw events of one day (computed by the database, so no
// installId leaves it).
struct ActivityRow {
  std::string day;
  std::string app;           // kAllApps: every app together
  std::string version;       // "" for the total over the app's versions
  std::int64_t active = 0;   // installations with any event
  std::int64_t crashed = 0;  // installations with a crash
};
// One crash or error signature on one day: how many events and how many distinct installations.
struct SignatureRow {
  std::string day;
  std::string app;
  std::string kind;       // "crash" or "error"
  std::string signature;  // crash_signature()
  std::int64_t events = 0;
  std::int64_t installs = 0;
};
struct DayActivity {
  std::vector<ActivityRow> activity;
  std::vector<SignatureRow> signatures;
};

// What the stats of a range are computed from, read at one moment: the aggregates, the raw
// events not rolled up yet, and the distinct-installation counts of the days not closed yet.
struct RangeSnapshot {
  AggregateRows aggregates;
  std::vector<StoredEvent> raw_events;
  DayActivity open_activity;
};

struct RollupReport {
  std::size_t events_rolled_up = 0;
  std::size_t days_closed = 0;
  std::size_t batches_purged = 0;
  bool skipped = false;  // another instance held the aggregation lock
};

struct StorageCounts {
  std::int64_t raw_events = 0;
  std::int64_t batches = 0;
  std::int64_t deletions = 0;
};

// Turns raw events into aggregate counters; pure.
using RollupFn = std::function<AggregateRows(const std::vector<StoredEvent>&)>;
// Turns one day's distinct-installation counts into aggregate counters; pure.
using ActivityFn = std::function<AggregateRows(const DayActivity&)>;

class Storage {
 public:
  virtual ~Storage() = default;

  // Stores the batch's events unless its batch id was seen before (then nothing is stored and
  // the first delivery's counts are returned with duplicate = true). Atomic: a batch is stored
  // entirely or not at all, and two deliveries racing store it once.
  virtual Result<IngestResult> ingest_batch(const IngestBatch& batch) = 0;

  // Removes every raw event of install_id and records that a deletion happened (time and
  // number of events, not the id). Returns how many events were removed.
  virtual Result<std::size_t> delete_installation(const std::string& install_id,
                                                  SystemTime now) = 0;

  // First closes every day that has raw events received before `cutoff` and is not closed yet:
  // its distinct-installation counts, over all its raw events (also those not due), go into
  // the aggregates (through `close_day`) and the day is recorded as closed, one transaction per
  // day; a closed day's distinct counts never change again. Then moves raw events received
  // before `cutoff` into the daily aggregates (through `rollup`) and deletes them, in one
  // transaction per chunk; forgets batch ids seen before `batch_cutoff`.
  virtual Result<RollupReport> roll_up(SystemTime cutoff, SystemTime batch_cutoff,
                                       const RollupFn& rollup, const ActivityFn& close_day) = 0;

  // Adds counters to the daily aggregates (used for counts of rejected events).
  virtual Status add_aggregates(const AggregateRows& rows) = 0;

  // Aggregate rows and raw events whose day lies in [from_day, to_day].
  virtual Result<AggregateRows> aggregates(const std::string& from_day,
                                           const std::string& to_day) = 0;
  virtual Result<std::vector<StoredEvent>> raw_events(const std::string& from_day,
                                                      const std::string& to_day) = 0;
  // Distinct-installation counts of the days in [from_day, to_day] that are not closed yet.
  virtual Result<DayActivity> open_activity(const std::string& from_day,
                                            const std::string& to_day) = 0;
  // The three above in one read transaction, so that an aggregation run in between cannot
  // make an answer miss the events it moved or the day it closed.
  virtual Result<RangeSnapshot> read_range(const std::string& from_day,
                                           const std::string& to_day) = 0;

  virtual Result<StorageCounts> counts() = 0;
  // A cheap round trip, for /healthz.
  virtual Status ping() = 0;
  // "sqlite" or "postgresql".
  virtual std::string kind() const = 0;
};

// Connections to PostgreSQL when nothing else is said (the server passes its --db-pool-size).
inline constexpr std::size_t kDefaultPoolSize = 4;

// Opens "postgresql://…" / "postgres://…" with PostgreSQL, anything else as a SQLite file path.
// Creates the schema when missing. `pool_size` is the number of PostgreSQL connections (SQLite
// has one writer and ignores it).
Result<std::unique_ptr<Storage>> open_storage(const std::string& database,
                                              std::size_t pool_size = kDefaultPoolSize);

// Events are handled in chunks of this many rows by roll_up, to bound memory.
inline constexpr std::size_t kRollupChunk = 2000;

}  // namespace dollhouse::server
