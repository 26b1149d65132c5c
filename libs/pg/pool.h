// A thread-safe pool of PostgreSQL connections (libpqxx). Connections open lazily; a broken
// one is dropped and an idle one is checked before reuse (a server restart closes it while
// idle), so the pool reconnects by itself when PostgreSQL comes back. Work is never run twice:
// a failure is returned to the caller. Exceptions never leave this class: the callbacks may
// let libpqxx throw, and the caller gets an absl::Status.
//
//   pg::Pool pool(options);
//   RETURN_IF_ERROR(pool.Transact([&](pqxx::work& tx) {
//     tx.exec_params("INSERT INTO t VALUES ($1)", v);
//     return absl::OkStatus();
//   }));
#ifndef GRANARY_LIBS_PG_POOL_H_
#define GRANARY_LIBS_PG_POOL_H_

#include <functional>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "pqxx/connection.hxx"
#include "pqxx/pqxx"

#include "libs/pg/options.h"

namespace granary::pg {

class Pool {
 public:
  explicit Pool(PgOptions options) : options_(std::move(options)) {}

  // Runs fn on a connection.
  absl::Status WithConnection(const std::function<absl::Status(pqxx::connection&)>& fn);

  // Runs fn in a transaction, committed when fn returns OK and rolled back otherwise.
  absl::Status Transact(const std::function<absl::Status(pqxx::work&)>& fn);

  // OK when PostgreSQL answers `SELECT 1` (connecting first if needed).
  absl::Status Ping();

  const PgOptions& options() const { return options_; }

 private:
  // A healthy idle connection, or a new one (which may throw).
  std::unique_ptr<pqxx::connection> Borrow();

  const PgOptions options_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_ ABSL_GUARDED_BY(mu_);
};

}  // namespace granary::pg

#endif  // GRANARY_LIBS_PG_POOL_H_
