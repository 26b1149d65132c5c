// What materialization copies to the online store: the latest row per entity of a feature
// view with an event time in [start, end) (newest event time, ties broken by the newest
// created time; a row without one counts as the oldest), optionally only the entities of one
// shard of the entity hash space, so that tasks can split a view between workers.
//
//   ASSIGN_OR_RETURN(std::string sql, LatestRowsSql(source, start, end, Shard{2, 8}));
//   // columns: each join column, the event time, the created time (or NULL), each feature
#ifndef GRANARY_LIBS_OFFLINESTORE_LATEST_ROWS_H_
#define GRANARY_LIBS_OFFLINESTORE_LATEST_ROWS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "granary/types/v1/value.pb.h"
#include <pqxx/dbtransaction>

#include "libs/offlinestore/view_source.h"

namespace granary::offlinestore {

// Entities whose key hashes to `index` modulo `count` (PostgreSQL's hashtextextended of the
// key's text: stable across runs and servers of the same major version).
struct Shard {
  int index = 0;
  int count = 1;
};

// The statement, its columns by position: the view's join columns, the event time and the
// created time (NULL when the source has none) as epoch microseconds, then the features in
// order, each through FeatureExpression when its type is known (value_text.h).
// INVALID_ARGUMENT for end not after start, a view without join columns, or a shard outside
// its count.
absl::StatusOr<std::string> LatestRowsSql(const ViewSource& view, absl::Time start, absl::Time end,
                                          std::optional<Shard> shard);

// One entity's latest row, as read.
struct LatestRow {
  std::vector<types::v1::Value> keys;  // in the order of the view's join keys
  absl::Time event_time;
  std::optional<absl::Time> created_time;
  std::vector<types::v1::Value> features;  // in the order of the view's features
};

// Streams the rows of LatestRowsSql in `tx` with COPY, `batch_rows` at a time to `each`
// (memory bounded by one batch, whatever the view's size); stops at the first error `each`
// returns. Every join key and feature type must be known. A row whose text is not of its
// column's type is INVALID_ARGUMENT naming the view, the column and the entity.
absl::Status ReadLatestRows(pqxx::dbtransaction& tx, const ViewSource& view, absl::Time start,
                            absl::Time end, std::optional<Shard> shard, size_t batch_rows,
                            absl::FunctionRef<absl::Status(std::vector<LatestRow>& rows)> each);

}  // namespace granary::offlinestore

#endif  // GRANARY_LIBS_OFFLINESTORE_LATEST_ROWS_H_
