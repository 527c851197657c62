#include "server/storage/postgres_pool.hpp"

#include <spdlog/spdlog.h>

#include <string>
#include <utility>

namespace dollhouse::server::pg {

Result<PgResult> Connection::run(const Sql& sql, const std::vector<std::string>& params) {
  if (!prepared_.contains(sql.name)) {
    PgResult prepared(PQprepare(conn_, sql.name, sql.text, 0, nullptr));
    if (!prepared || PQresultStatus(prepared.get()) != PGRES_COMMAND_OK) {
      return failure(prepared.get());
    }
    prepared_.insert(sql.name);
  }
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const std::string& p : params) values.push_back(p.c_str());
  PgResult r(PQexecPrepared(conn_, sql.name, static_cast<int>(values.size()), values.data(),
                            nullptr, nullptr, 0));
  ExecStatusType status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return r;
  return failure(r.get());
}

Status Connection::exec(const char* sql) {
  PgResult r(PQexec(conn_, sql));
  ExecStatusType status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return Status::ok();
  return failure(r.get());
}

Status Connection::failure(PGresult* r) const {
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  const std::string code = state ? state : "";
  std::string kind = "io_error";
  if (broken()) kind = "unavailable";
  // 40001 serialization failure, 40P01 deadlock, 55P03 lock not available, 57014 statement
  // timeout, 57P01-57P03 the database is shutting down or starting: retry later.
  if (code == "40001" || code == "40P01" || code == "55P03" || code == "57014") kind = "busy";
  if (code.starts_with("57P")) kind = "unavailable";
  return Status::error(kind, std::string("database: ") + PQerrorMessage(conn_));
}

Pool::Pool(std::string uri, std::size_t size, Setup setup, Setup first_setup)
    : uri_(std::move(uri)),
      size_(size == 0 ? 1 : size),
      setup_(std::move(setup)),
      first_setup_(std::move(first_setup)) {}

Pool::~Pool() = default;

Pool::Lease::~Lease() {
  if (conn_) pool_->give_back(std::move(conn_));
}

void Pool::give_back(std::unique_ptr<Connection> conn) {
  {
    std::lock_guard lock(mutex_);
    if (conn->broken()) {
      --open_;
    } else {
      idle_.push_back(std::move(conn));
    }
  }
  // A broken connection is closed outside the lock (conn goes out of scope here).
  returned_.notify_one();
}

Result<Pool::Lease> Pool::acquire() {
  std::unique_lock lock(mutex_);
  const auto deadline = std::chrono::steady_clock::now() + kPoolWait;
  while (idle_.empty() && open_ >= size_) {
    if (returned_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= size_) {
      return Status::error("busy", "database: all " + std::to_string(size_) +
                                       " pooled connections stayed in use for " +
                                       std::to_string(kPoolWait.count()) + " s");
    }
  }
  if (!idle_.empty()) {
    auto conn = std::move(idle_.back());
    idle_.pop_back();
    return Lease(*this, std::move(conn), true);
  }
  if (std::chrono::steady_clock::now() < next_attempt_) {
    return Status::error("unavailable", "database: not reachable: " + last_error_);
  }
  ++open_;
  lock.unlock();
  auto conn = connect();
  lock.lock();
  if (!conn) {
    --open_;
    next_attempt_ = std::chrono::steady_clock::now() + kReconnectInterval;
    if (last_error_ != conn.status().message()) {
      spdlog::warn("{}; requests get 503 until it answers", conn.status().message());
    }
    last_error_ = conn.status().message();
    returned_.notify_one();
    return conn.status();
  }
  if (!last_error_.empty()) spdlog::info("database: connected again");
  last_error_.clear();
  return Lease(*this, std::move(conn.value()), false);
}

Result<std::unique_ptr<Connection>> Pool::connect() {
  // Ours first: the parameters of the URI, expanded after them, take precedence.
  const std::string timeout = std::to_string(kConnectTimeoutSeconds);
  const char* keywords[] = {"connect_timeout", "dbname", nullptr};
  const char* values[] = {timeout.c_str(), uri_.c_str(), nullptr};
  PGconn* raw = PQconnectdbParams(keywords, values, 1);
  if (raw == nullptr) return Status::error("unavailable", "database: out of memory");
  auto conn = std::make_unique<Connection>(raw);
  if (PQstatus(raw) != CONNECTION_OK) {
    std::string message = PQerrorMessage(raw);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
      message.pop_back();
    }
    return Status::error("unavailable", "cannot connect to PostgreSQL: " + message);
  }
  if (Status st = setup_(*conn); !st) return st;
  std::lock_guard lock(mutex_);
  if (!first_setup_done_) {
    // Under the pool's lock, so that a second connection never runs before the schema exists.
    if (Status st = first_setup_(*conn); !st) return st;
    first_setup_done_ = true;
  }
  return conn;
}

std::string text_array(const std::vector<std::string_view>& items) {
  std::size_t size = 2;
  for (std::string_view item : items) size += item.size() + 3;
  std::string out;
  out.reserve(size);
  out += '{';
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

}  // namespace dollhouse::server::pg
