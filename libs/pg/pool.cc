#include "libs/pg/pool.h"

#include "pqxx/except.hxx"
#include "pqxx/nontransaction.hxx"

#include "libs/pg/errors.h"

namespace granary::pg {

absl::Status Pool::WithConnection(const std::function<absl::Status(pqxx::connection&)>& fn) {
  for (int attempt = 0;; ++attempt) {
    std::unique_ptr<pqxx::connection> conn;
    bool pooled = false;
    {
      absl::MutexLock lock(&mu_);
      if (!idle_.empty()) {
        conn = std::move(idle_.back());
        idle_.pop_back();
        pooled = true;
      }
    }
    absl::Status status;
    bool broken = false;
    try {
      if (conn == nullptr) conn = std::make_unique<pqxx::connection>(ConnInfo(options_));
      status = fn(*conn);
    } catch (const pqxx::broken_connection& e) {
      broken = true;
      status = StatusFromException(e);
    } catch (const std::exception& e) {
      status = StatusFromException(e);
    }
    broken = broken || conn == nullptr || !conn->is_open();
    if (!broken) {
      absl::MutexLock lock(&mu_);
      if (static_cast<int>(idle_.size()) < options_.pool_size) idle_.push_back(std::move(conn));
      return status;
    }
    if (!(pooled && attempt == 0)) return status;
    // The server likely restarted: every idle connection is stale.
    absl::MutexLock lock(&mu_);
    idle_.clear();
  }
}

absl::Status Pool::Transact(const std::function<absl::Status(pqxx::work&)>& fn) {
  return WithConnection([&](pqxx::connection& conn) {
    pqxx::work tx(conn);
    absl::Status status = fn(tx);
    if (status.ok()) {
      tx.commit();
    } else {
      tx.abort();
    }
    return status;
  });
}

absl::Status Pool::Ping() {
  return WithConnection([](pqxx::connection& conn) {
    pqxx::nontransaction tx(conn);
    tx.exec("SELECT 1");
    return absl::OkStatus();
  });
}

}  // namespace granary::pg
