#include "libs/pg/migrations.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"

#include "libs/base/log.h"

namespace granary::pg {

absl::Status Migrate(Pool& pool, const std::string& schema,
                     const std::vector<Migration>& migrations) {
  return pool.Transact([&](pqxx::work& tx) {
    // Serializes concurrent migrators, including the CREATE SCHEMA below.
    tx.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))", "granary.migrate." + schema);
    std::string quoted = tx.quote_name(schema);
    // Only when missing: CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when
    // the schema exists, and a least-privilege role has its schema made for it instead
    // (deploy/postgres/roles.sql).
    if (tx.exec_params("SELECT 1 FROM pg_namespace WHERE nspname = $1", schema).empty()) {
      tx.exec(absl::StrCat("CREATE SCHEMA ", quoted));
    }
    tx.exec(absl::StrCat("CREATE TABLE IF NOT EXISTS ", quoted,
                         ".schema_migrations (version integer PRIMARY KEY, name text NOT NULL, "
                         "applied_at timestamptz NOT NULL DEFAULT now())"));
    std::set<int> applied;
    for (const auto& row :
         tx.exec(absl::StrCat("SELECT version FROM ", quoted, ".schema_migrations"))) {
      applied.insert(row[0].as<int>());
    }
    int known = 0;
    for (const Migration& m : migrations) known = std::max(known, m.version);
    if (!applied.empty() && *applied.rbegin() > known) {
      // A newer release migrated this database: running old code on it could corrupt it.
      return absl::FailedPreconditionError(
          absl::StrCat("schema ", schema, " is at version ", *applied.rbegin(),
                       " but this release knows only ", known, ": upgrade Granary"));
    }
    for (const Migration& m : migrations) {
      if (applied.count(m.version)) continue;
      tx.exec(m.sql);
      tx.exec_params(absl::StrCat("INSERT INTO ", quoted,
                                  ".schema_migrations (version, name) VALUES ($1, $2)"),
                     m.version, m.name);
      base::LogInfo("schema migrated")
          .With("schema", schema)
          .With("version", m.version)
          .With("name", m.name);
    }
    return absl::OkStatus();
  });
}

}  // namespace granary::pg
