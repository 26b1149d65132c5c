// Versioned schema migrations, applied at start-up. Each schema records what was applied in
// <schema>.schema_migrations; pending migrations run in order in one transaction under an
// advisory lock, so several processes starting at once apply each exactly once, and a failed
// migration leaves nothing half done. A database migrated by a newer release is refused
// (FAILED_PRECONDITION) rather than used by code that does not know its schema.
//
//   RETURN_IF_ERROR(pg::Migrate(pool, "registry", {{1, "catalog", "CREATE TABLE ..."}}));
#ifndef GRANARY_LIBS_PG_MIGRATIONS_H_
#define GRANARY_LIBS_PG_MIGRATIONS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "libs/pg/pool.h"

namespace granary::pg {

struct Migration {
  // Increasing; never reuse or change a released one, add a new one.
  int version;
  std::string name;
  std::string sql;
};

absl::Status Migrate(Pool& pool, const std::string& schema,
                     const std::vector<Migration>& migrations);

}  // namespace granary::pg

#endif  // GRANARY_LIBS_PG_MIGRATIONS_H_
