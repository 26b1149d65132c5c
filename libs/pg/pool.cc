#include "libs/pg/pool.h"

#include "pqxx/except.hxx"
#include "pqxx/nontransaction.hxx"

#include "libs/base/idle_socket.h"
#include "libs/pg/errors.h"

namespace granary::pg {

std::unique_ptr<pqxx::connection> Pool::Borrow() {
  while (true) {
    std::unique_ptr<pqxx::connection> conn;
    {
      absl::MutexLock lock(&mu_);
      if (idle_.empty()) break;
      conn = std::move(idle_.back());
      idle_.pop_back();
    }
    if (conn->is_open() && !base::IdleSocketIsStale(conn->sock())) return conn;
  }
  return std::make_unique<pqxx::connection>(ConnInfo(options_));
}

absl::Status Pool::WithConnection(const std::function<absl::Status(pqxx::connection&)>& fn) {
  std::unique_ptr<pqxx::connection> conn;
  absl::Status status;
  try {
    conn = Borrow();
    status = fn(*conn);
  } catch (const std::exception& e) {
    status = StatusFromException(e);
  }
  if (conn != nullptr && conn->is_open()) {
    absl::MutexLock lock(&mu_);
    if (static_cast<int>(idle_.size()) < options_.pool_size) idle_.push_back(std::move(conn));
  }
  return status;
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
