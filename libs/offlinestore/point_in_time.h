// The point-in-time join of historical retrieval, as one SQL statement for any number of
// feature views (FACTS.md): for each entity row and each view, the view's newest row with the
// same join keys and an event time at or before the entity row's (and, when the view has a
// ttl, no older than the entity row's time minus the ttl), ties on event time broken by the
// newest created time (a row without one counts as the oldest). Every entity row is kept, in
// order, with nulls where nothing matches; its extra columns pass through. Every name is
// quoted (sql_names.h); only a source's or the entity rows' query, given as SQL, is SQL.
//
//   ASSIGN_OR_RETURN(std::string sql, PointInTimeSql(entities, {stats, trips}, false));
//   tx.exec(sql)  // or COPY (sql) TO STDOUT, to stream it
#ifndef GRANARY_LIBS_OFFLINESTORE_POINT_IN_TIME_H_
#define GRANARY_LIBS_OFFLINESTORE_POINT_IN_TIME_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

#include "libs/offlinestore/view_source.h"

namespace granary::offlinestore {

// The rows features are joined to.
struct EntityRows {
  // A table (a temporary one the caller copied rows into), or, when `query` is set, a query.
  std::string table;
  std::string query;
  std::vector<std::string> join_keys;
  std::string timestamp_column;
  std::vector<std::string> extra_columns;  // passed through, in this order
  // A column giving the rows' order (the caller's line numbers); empty: the order the table
  // or query yields.
  std::string order_column;
};

// SELECT of the join keys, the timestamp, the extra columns, then each view's features in
// order, named "<feature>" or, with full_feature_names, "<view>__<feature>"; one row per
// entity row, in order. INVALID_ARGUMENT for a malformed request (no views, a view without
// join columns matching the entity keys, two output columns of the same name).
absl::StatusOr<std::string> PointInTimeSql(const EntityRows& entities,
                                           absl::Span<const ViewSource> views,
                                           bool full_feature_names);

}  // namespace granary::offlinestore

#endif  // GRANARY_LIBS_OFFLINESTORE_POINT_IN_TIME_H_
