#include "libs/offlinestore/latest_rows.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "libs/base/status_macros.h"
#include "libs/offlinestore/copy_reader.h"
#include "libs/offlinestore/sql_names.h"
#include "libs/offlinestore/value_text.h"

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
  std::vector<std::string> key_outputs;  // through FeatureExpression when the type is known
  for (size_t k = 0; k < view.join_columns.size(); ++k) {
    ASSIGN_OR_RETURN(std::string key, QualifiedColumn("s", view.join_columns[k]));
    std::string output = key;
    if (k < view.join_types.size() && view.join_types[k] != types::v1::ValueType::INVALID) {
      ASSIGN_OR_RETURN(output, FeatureExpression(key, view.join_types[k]));
    }
    keys.push_back(std::move(key));
    key_outputs.push_back(std::move(output));
  }
  const std::string key_list = absl::StrJoin(keys, ", ");
  ASSIGN_OR_RETURN(std::string ts, QualifiedColumn("s", view.timestamp_column));
  std::string created;
  if (!view.created_column.empty()) {
    ASSIGN_OR_RETURN(created, QualifiedColumn("s", view.created_column));
  }
  // Exact: extract gives a numeric, and a timestamptz holds microseconds.
  auto micros = [](const std::string& column) {
    return absl::StrCat("(extract(epoch FROM ", column, ") * 1000000)::bigint");
  };
  // Positional names: no feature can collide with another output column.
  std::string sql = absl::StrCat("SELECT DISTINCT ON (", key_list, ") ");
  for (size_t k = 0; k < keys.size(); ++k) {
    absl::StrAppend(&sql, key_outputs[k], " AS \"k", k, "\", ");
  }
  absl::StrAppend(&sql, micros(ts), " AS \"t\", ",
                  created.empty() ? "NULL::bigint" : micros(created), " AS \"c\"");
  for (size_t f = 0; f < view.features.size(); ++f) {
    ASSIGN_OR_RETURN(std::string feature, QualifiedColumn("s", view.features[f].column));
    if (view.features[f].type != types::v1::ValueType::INVALID) {
      ASSIGN_OR_RETURN(feature, FeatureExpression(feature, view.features[f].type));
    }
    absl::StrAppend(&sql, ", ", feature, " AS \"f", f, "\"");
  }
  ASSIGN_OR_RETURN(std::string from, FromClause(view.table, view.query, "s",
                                                absl::StrCat("feature view ", view.name)));
  absl::StrAppend(&sql, " FROM ", from, " WHERE ", ts, " >= ", TimeLiteral(start), " AND ", ts,
                  " < ", TimeLiteral(end));
  // A row without a key is no entity's: nothing could read it online.
  for (const std::string& key : keys) absl::StrAppend(&sql, " AND ", key, " IS NOT NULL");
  if (shard.has_value() && shard->count > 1) {
    // The sign bit cleared, then the remainder: the same entity always in the same shard.
    absl::StrAppend(&sql, " AND (hashtextextended(ROW(", key_list,
                    ")::text, 0) & 9223372036854775807) % ", shard->count, " = ", shard->index);
  }
  absl::StrAppend(&sql, " ORDER BY ", key_list, ", ", ts, " DESC");
  if (!view.created_column.empty()) absl::StrAppend(&sql, ", ", created, " DESC NULLS LAST");
  return sql;
}

absl::Status ReadLatestRows(pqxx::dbtransaction& tx, const ViewSource& view, absl::Time start,
                            absl::Time end, std::optional<Shard> shard, size_t batch_rows,
                            absl::FunctionRef<absl::Status(std::vector<LatestRow>& rows)> each) {
  if (view.join_types.size() != view.join_columns.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("feature view ", view.name, ": the join keys' types are not known"));
  }
  for (const ViewSource::Feature& f : view.features) {
    if (f.type == types::v1::ValueType::INVALID) {
      return absl::InvalidArgumentError(
          absl::StrCat("feature view ", view.name, ": feature ", f.name, " has no declared type"));
    }
  }
  ASSIGN_OR_RETURN(std::string sql, LatestRowsSql(view, start, end, shard));
  RETURN_IF_ERROR(PinSession(tx));
  const size_t keys = view.join_columns.size();
  CopyReader reader(tx, sql);
  std::vector<std::optional<std::string>> fields;
  std::vector<LatestRow> batch;
  batch.reserve(std::max<size_t>(batch_rows, 1));
  while (true) {
    ASSIGN_OR_RETURN(bool more, reader.Next(&fields));
    if (!more) break;
    if (fields.size() != keys + 2 + view.features.size()) {
      return absl::InternalError(absl::StrCat("feature view ", view.name, ": ", fields.size(),
                                              " columns in a row of the latest rows"));
    }
    LatestRow& row = batch.emplace_back();
    // The entity, for a message: made only when one is needed.
    auto entity = [&] {
      std::string out;
      for (size_t k = 0; k < keys; ++k) {
        absl::StrAppend(&out, k == 0 ? "" : ", ", view.join_keys[k], "=",
                        fields[k].value_or("NULL"));
      }
      return out;
    };
    for (size_t k = 0; k < keys; ++k) {
      absl::StatusOr<types::v1::Value> key = ParseFeatureText(fields[k], view.join_types[k]);
      if (!key.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("feature view ", view.name, ": join key ",
                                                       view.join_keys[k], ": ",
                                                       key.status().message()));
      }
      row.keys.push_back(*std::move(key));
    }
    int64_t micros = 0;
    if (!fields[keys].has_value() || !absl::SimpleAtoi(*fields[keys], &micros)) {
      return absl::InvalidArgumentError(
          absl::StrCat("feature view ", view.name, ", entity ", entity(), ": no event time"));
    }
    row.event_time = absl::FromUnixMicros(micros);
    if (fields[keys + 1].has_value() && absl::SimpleAtoi(*fields[keys + 1], &micros)) {
      row.created_time = absl::FromUnixMicros(micros);
    }
    for (size_t f = 0; f < view.features.size(); ++f) {
      absl::StatusOr<types::v1::Value> value =
          ParseFeatureText(fields[keys + 2 + f], view.features[f].type);
      if (!value.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("feature view ", view.name, ", entity ", entity(), ", column ",
                         view.features[f].column, ": ", value.status().message()));
      }
      row.features.push_back(*std::move(value));
    }
    if (batch.size() >= batch_rows) {
      RETURN_IF_ERROR(each(batch));
      batch.clear();
    }
  }
  if (!batch.empty()) RETURN_IF_ERROR(each(batch));
  return absl::OkStatus();
}

}  // namespace granary::offlinestore
