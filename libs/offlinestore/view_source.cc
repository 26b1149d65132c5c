#include "libs/offlinestore/view_source.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include <pqxx/subtransaction>

#include "libs/base/status_macros.h"
#include "libs/offlinestore/sql_names.h"
#include "libs/pg/errors.h"

namespace granary::offlinestore {

absl::StatusOr<ViewSource> SourceOfView(const registry_client::Catalog& catalog,
                                        absl::string_view view_name) {
  const registry::v1::FeatureView* view = catalog.FindFeatureView(view_name);
  if (view == nullptr) {
    return absl::NotFoundError(absl::StrCat("feature view ", view_name, ": not in project ",
                                            catalog.repo().project().name()));
  }
  const registry::v1::DataSource* data = catalog.FindDataSource(view->batch_source());
  if (data == nullptr || !data->has_postgres()) {
    return absl::FailedPreconditionError(absl::StrCat("feature view ", view_name,
                                                      ": its batch source \"", view->batch_source(),
                                                      "\" is not a PostgreSQL table or query"));
  }
  // field_mapping maps a source column to the feature or join key it holds.
  auto column_of = [&](const std::string& name) {
    for (const auto& [column, mapped] : data->field_mapping()) {
      if (mapped == name) return column;
    }
    return name;
  };
  ViewSource source;
  source.name = view->name();
  source.table = data->postgres().table();
  source.query = data->postgres().query();
  source.timestamp_column = data->timestamp_field();
  source.created_column = data->created_timestamp_column();
  for (const std::string& entity_name : view->entities()) {
    const registry::v1::Entity* entity = catalog.FindEntity(entity_name);
    if (entity == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("feature view ", view_name, ": entity ", entity_name, " is not defined"));
    }
    source.join_keys.push_back(entity->join_key());
    source.join_columns.push_back(column_of(entity->join_key()));
    source.join_types.push_back(entity->value_type());
  }
  for (const auto& field : view->schema()) {
    source.features.push_back({column_of(field.name()), field.name(), field.dtype()});
  }
  if (view->has_ttl()) {
    source.ttl = absl::Seconds(view->ttl().seconds()) + absl::Nanoseconds(view->ttl().nanos());
  }
  return source;
}

absl::Status CheckSource(pqxx::dbtransaction& tx, const ViewSource& source) {
  std::vector<std::string> columns;
  for (const std::string& c : source.join_columns) columns.push_back(c);
  columns.push_back(source.timestamp_column);
  if (!source.created_column.empty()) columns.push_back(source.created_column);
  for (const ViewSource::Feature& f : source.features) columns.push_back(f.column);
  for (const std::string& c : columns) RETURN_IF_ERROR(QuoteIdentifier(c).status());
  ASSIGN_OR_RETURN(std::string from, FromClause(source.table, source.query, "s",
                                                absl::StrCat("feature view ", source.name)));
  // Every column the source has (no row read), compared with those it must have: all the
  // missing ones named at once, not only the first PostgreSQL would stop at.
  pqxx::result shape;
  try {
    // A subtransaction: a failed check must not abort the caller's transaction.
    pqxx::subtransaction check(tx, "check_source");
    shape = check.exec(absl::StrCat("SELECT * FROM ", from, " LIMIT 0"));
    check.commit();
  } catch (const std::exception& e) {
    absl::Status status = pg::StatusFromException(e);
    const std::string state = pg::SqlState(status);
    // An undefined table or schema: the source names what is not there.
    const absl::StatusCode code = state == "42P01" || state == "42703" || state == "3F000"
                                      ? absl::StatusCode::kNotFound
                                      : status.code();
    return absl::Status(code, absl::StrCat("feature view ", source.name, ": ", status.message()));
  }
  absl::flat_hash_set<std::string> present;
  for (pqxx::row::size_type c = 0; c < shape.columns(); ++c) present.insert(shape.column_name(c));
  std::vector<std::string> missing;
  for (const std::string& c : columns) {
    if (!present.contains(c)) missing.push_back(absl::StrCat("\"", c, "\""));
  }
  if (!missing.empty()) {
    return absl::NotFoundError(
        absl::StrCat("feature view ", source.name, ": ",
                     missing.size() == 1 ? "column " : "columns ", absl::StrJoin(missing, ", "),
                     " not in ", source.query.empty() ? source.table : "the result of its query"));
  }
  return absl::OkStatus();
}

}  // namespace granary::offlinestore
