#include "libs/offlinestore/point_in_time.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

#include "libs/base/status_macros.h"
#include "libs/offlinestore/sql_names.h"

namespace granary::offlinestore {
namespace {

// The row number the statement orders by: a name no user column is given here (the entity
// rows' own columns are selected by name, never with *).
constexpr char kRow[] = "\"__granary_row\"";

}  // namespace

absl::StatusOr<std::string> PointInTimeSql(const EntityRows& entities,
                                           absl::Span<const ViewSource> views,
                                           bool full_feature_names) {
  if (views.empty()) return absl::InvalidArgumentError("features: none asked for");
  if (entities.timestamp_column.empty()) {
    return absl::InvalidArgumentError("entity rows: no timestamp column");
  }
  // The entity rows, numbered in their order.
  ASSIGN_OR_RETURN(std::string entity_from,
                   FromClause(entities.table, entities.query, "src", "entity rows"));
  std::string order = "";
  if (!entities.order_column.empty()) {
    ASSIGN_OR_RETURN(std::string by, QualifiedColumn("src", entities.order_column));
    order = absl::StrCat("ORDER BY ", by);
  }
  std::string entity_columns;
  absl::flat_hash_set<std::string> outputs;
  std::vector<std::string> passed;  // the entity columns selected, in order
  for (const std::string& key : entities.join_keys) passed.push_back(key);
  passed.push_back(entities.timestamp_column);
  for (const std::string& extra : entities.extra_columns) passed.push_back(extra);
  for (const std::string& column : passed) {
    if (!outputs.insert(column).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("entity rows: column \"", column, "\" named twice"));
    }
    ASSIGN_OR_RETURN(std::string c, QualifiedColumn("src", column));
    absl::StrAppend(&entity_columns, c, ", ");
  }
  // The rows are probed in the order of their keys and times, so that consecutive probes of
  // each view's index and table touch the same pages (several times faster on tables larger
  // than PostgreSQL's cache than probing in the caller's order), then put back in order.
  std::string probe_order;
  for (const std::string& key : entities.join_keys) {
    ASSIGN_OR_RETURN(std::string k, QuoteIdentifier(key));
    absl::StrAppend(&probe_order, k, ", ");
  }
  ASSIGN_OR_RETURN(std::string ts_name, QuoteIdentifier(entities.timestamp_column));
  absl::StrAppend(&probe_order, ts_name);
  std::string sql = absl::StrCat("WITH e0 AS (SELECT ", entity_columns, "row_number() OVER (",
                                 order, ") AS ", kRow, " FROM ", entity_from, ")\nSELECT ");
  for (const std::string& column : passed) {
    ASSIGN_OR_RETURN(std::string c, QualifiedColumn("e", column));
    absl::StrAppend(&sql, c, ", ");
  }
  ASSIGN_OR_RETURN(const std::string entity_ts, QualifiedColumn("e", entities.timestamp_column));
  std::string joins;
  for (size_t v = 0; v < views.size(); ++v) {
    const ViewSource& view = views[v];
    const std::string alias = absl::StrCat("v", v);
    // Each of the view's join keys matched by name to an entity column: views of different
    // entities join on their own keys (the entity rows carry every key asked for).
    if (view.join_keys.size() != view.join_columns.size()) {
      return absl::InvalidArgumentError(absl::StrCat("feature view ", view.name, ": ",
                                                     view.join_columns.size(), " join columns for ",
                                                     view.join_keys.size(), " join keys"));
    }
    for (const std::string& key : view.join_keys) {
      if (std::find(entities.join_keys.begin(), entities.join_keys.end(), key) ==
          entities.join_keys.end()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "entity rows: no column \"", key, "\", the join key of feature view ", view.name));
      }
    }
    if (view.timestamp_column.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("feature view ", view.name, ": its source has no timestamp column"));
    }
    std::string inner = "SELECT ";
    for (size_t f = 0; f < view.features.size(); ++f) {
      const ViewSource::Feature& feature = view.features[f];
      const std::string output =
          full_feature_names ? absl::StrCat(view.name, "__", feature.name) : feature.name;
      if (!outputs.insert(output).second) {
        return absl::InvalidArgumentError(absl::StrCat(
            "feature ", view.name, ":", feature.name, ": the column \"", output,
            "\" is there twice", full_feature_names ? "" : " (ask for full feature names)"));
      }
      ASSIGN_OR_RETURN(std::string source, QualifiedColumn("s", feature.column));
      ASSIGN_OR_RETURN(std::string quoted_output, QuoteIdentifier(output));
      absl::StrAppend(&inner, f == 0 ? "" : ", ", source, " AS \"f", f, "\"");
      absl::StrAppend(&sql, alias, ".\"f", f, "\" AS ", quoted_output, ", ");
    }
    if (view.features.empty()) absl::StrAppend(&inner, "1");
    ASSIGN_OR_RETURN(std::string from, FromClause(view.table, view.query, "s",
                                                  absl::StrCat("feature view ", view.name)));
    ASSIGN_OR_RETURN(std::string ts, QualifiedColumn("s", view.timestamp_column));
    absl::StrAppend(&inner, " FROM ", from, " WHERE ");
    for (size_t k = 0; k < view.join_columns.size(); ++k) {
      ASSIGN_OR_RETURN(std::string source_key, QualifiedColumn("s", view.join_columns[k]));
      ASSIGN_OR_RETURN(std::string entity_key, QualifiedColumn("e", view.join_keys[k]));
      absl::StrAppend(&inner, source_key, " = ", entity_key, " AND ");
    }
    absl::StrAppend(&inner, ts, " <= ", entity_ts);
    if (view.ttl > absl::ZeroDuration()) {
      // Digits only: the ttl is a number, not text from anyone.
      absl::StrAppend(&inner, " AND ", ts, " >= ", entity_ts, " - interval '",
                      absl::ToInt64Microseconds(view.ttl), " microseconds'");
    }
    absl::StrAppend(&inner, " ORDER BY ", ts, " DESC");
    if (!view.created_column.empty()) {
      ASSIGN_OR_RETURN(std::string created, QualifiedColumn("s", view.created_column));
      absl::StrAppend(&inner, ", ", created, " DESC NULLS LAST");
    }
    absl::StrAppend(&inner, " LIMIT 1");
    absl::StrAppend(&joins, "\nLEFT JOIN LATERAL (", inner, ") ", alias, " ON true");
  }
  // The trailing ", " of the select list.
  sql.resize(sql.size() - 2);
  absl::StrAppend(&sql, "\nFROM (SELECT * FROM e0 ORDER BY ", probe_order, ") e", joins,
                  "\nORDER BY e.", kRow);
  return sql;
}

}  // namespace granary::offlinestore
