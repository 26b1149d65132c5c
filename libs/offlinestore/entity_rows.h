// The entity rows of historical retrieval, the two ways a caller gives them: inline (copied
// into a temporary table of the session with COPY, typed from the values) or as a query over
// the offline database (its columns and their types read from PostgreSQL's description of
// it, without running it).
//
//   RETURN_IF_ERROR(CreateEntityTable(setup_tx, inline_rows));  // read-write: CREATE
//   RETURN_IF_ERROR(CopyEntities(setup_tx, inline_rows));       // COPY into the temp table
//   EntityRows rows = InlineEntityRows(inline_rows, join_keys);
#ifndef GRANARY_LIBS_OFFLINESTORE_ENTITY_ROWS_H_
#define GRANARY_LIBS_OFFLINESTORE_ENTITY_ROWS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "granary/types/v1/value.pb.h"
#include <pqxx/transaction_base>

#include "libs/offlinestore/point_in_time.h"

namespace granary::offlinestore {

struct EntityColumn {
  std::string name;
  types::v1::ValueType::Enum type = types::v1::ValueType::STRING;
};

// Rows given inline: a value per row in each column, a timestamp per row.
struct InlineEntities {
  std::vector<EntityColumn> columns;
  std::vector<std::vector<types::v1::Value>> values;  // [column][row]
  std::vector<absl::Time> timestamps;
};

// The temporary table's name and the column the rows' times are in.
inline constexpr char kEntityTable[] = "granary_entity_rows";
inline constexpr char kEntityTimestamp[] = "event_timestamp";

// The PostgreSQL type holding values of `type`; INVALID_ARGUMENT for INVALID and NULL.
absl::StatusOr<std::string> PgType(types::v1::ValueType::Enum type);

// The value type of a PostgreSQL type oid; STRING (its text) for any other.
types::v1::ValueType::Enum TypeOfOid(unsigned oid);

// The type of each inline column, from its values (nulls say nothing): INVALID_ARGUMENT naming
// the column and row of a value of another type than the first, or of a column of another
// length than the timestamps, or of a column named like the timestamp column.
absl::Status CheckInline(const InlineEntities& rows);

// (Re)creates the session's temporary table for the rows. CREATE is refused in a read-only
// transaction: run it in its own, before the read.
absl::Status CreateEntityTable(pqxx::transaction_base& tx, const InlineEntities& rows);
// Copies the rows in, each with its position, which orders the result.
absl::Status CopyEntities(pqxx::transaction_base& tx, const InlineEntities& rows);
// The rows as the point-in-time join takes them; every column not a join key passes through.
EntityRows InlineEntityRows(const InlineEntities& rows, const std::vector<std::string>& join_keys);

// The columns of `query` in order, and their types (the query run with LIMIT 0). More than one
// statement is INVALID_ARGUMENT, a missing table or column NOT_FOUND, other mistakes in it
// INVALID_ARGUMENT, all naming entity_sql; trouble reaching PostgreSQL as libs/pg maps it.
absl::StatusOr<std::vector<EntityColumn>> DescribeQuery(pqxx::transaction_base& tx,
                                                        const std::string& query);

}  // namespace granary::offlinestore

#endif  // GRANARY_LIBS_OFFLINESTORE_ENTITY_ROWS_H_
