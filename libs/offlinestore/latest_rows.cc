#include "libs/offlinestore/latest_rows.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "libs/base/status_macros.h"
#include "libs/offlinestore/sql_names.h"

namespace granary::offlinestore {

absl::StatusOr<std::string> LatestRowsSql(const ViewSource& view, absl::Time start, absl::Time end,
                                          std::optional<Shard> shard) {
  if (end <= start) {
    return absl::InvalidArgumentError(absl::StrCat(
        "end: ", absl::FormatTime(end), " is not after start ", absl::FormatTime(start)));
  }
  if (view.join_columns.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("feature view ", view.name, ": no join columns"));
  }
  if (view.timestamp_column.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("feature view ", view.name, ": its source has no timestamp column"));
  }
  if (shard.has_value() && (shard->count < 1 || shard->index < 0 || shard->index >= shard->count)) {
    return absl::InvalidArgumentError(
        absl::StrCat("shard ", shard->index, " of ", shard->count, ": no such shard"));
  }
  std::vector<std::string> keys;
  for (const std::string& column : view.join_columns) {
    ASSIGN_OR_RETURN(std::string key, QualifiedColumn("s", column));
    keys.push_back(std::move(key));
  }
  const std::string key_list = absl::StrJoin(keys, ", ");
  ASSIGN_OR_RETURN(std::string ts, QualifiedColumn("s", view.timestamp_column));
  std::string created = "NULL::timestamptz";
  if (!view.created_column.empty()) {
    ASSIGN_OR_RETURN(created, QualifiedColumn("s", view.created_column));
  }
  // Positional names: no feature can collide with another output column.
  std::string sql = absl::StrCat("SELECT DISTINCT ON (", key_list, ") ");
  for (size_t k = 0; k < keys.size(); ++k) absl::StrAppend(&sql, keys[k], " AS \"k", k, "\", ");
  absl::StrAppend(&sql, ts, " AS \"t\", ", created, " AS \"c\"");
  for (size_t f = 0; f < view.features.size(); ++f) {
    ASSIGN_OR_RETURN(std::string feature, QualifiedColumn("s", view.features[f].column));
    absl::StrAppend(&sql, ", ", feature, " AS \"f", f, "\"");
  }
  ASSIGN_OR_RETURN(std::string from, FromClause(view.table, view.query, "s",
                                                absl::StrCat("feature view ", view.name)));
  absl::StrAppend(&sql, " FROM ", from, " WHERE ", ts, " >= ", TimeLiteral(start), " AND ", ts,
                  " < ", TimeLiteral(end));
  if (shard.has_value() && shard->count > 1) {
    // The sign bit cleared, then the remainder: the same entity always in the same shard.
    absl::StrAppend(&sql, " AND (hashtextextended(ROW(", key_list,
                    ")::text, 0) & 9223372036854775807) % ", shard->count, " = ", shard->index);
  }
  absl::StrAppend(&sql, " ORDER BY ", key_list, ", ", ts, " DESC");
  if (!view.created_column.empty()) absl::StrAppend(&sql, ", ", created, " DESC NULLS LAST");
  return sql;
}

}  // namespace granary::offlinestore
