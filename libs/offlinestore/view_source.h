// Where a feature view's rows are in the offline store and which columns are what: what the
// point-in-time join and materialization read. Built from the registry's data source (table or
// query, field mapping, timestamp and created-timestamp columns).
//
//   ASSIGN_OR_RETURN(ViewSource source, SourceOfView(*catalog, "driver_hourly_stats"));
//   RETURN_IF_ERROR(CheckSource(tx, source));
#ifndef GRANARY_LIBS_OFFLINESTORE_VIEW_SOURCE_H_
#define GRANARY_LIBS_OFFLINESTORE_VIEW_SOURCE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "granary/types/v1/value.pb.h"
#include <pqxx/dbtransaction>

#include "libs/registry_client/catalog.h"

namespace granary::offlinestore {

// One feature view's rows.
struct ViewSource {
  std::string name;  // the feature view, for full feature names
  // A table (optionally schema.table), or, when `query` is set, that query's rows.
  std::string table;
  std::string query;
  // The view's entities' join keys, and the source's column holding each (the same unless the
  // data source's field mapping renames it).
  std::vector<std::string> join_keys;
  std::vector<std::string> join_columns;
  // Each join key's declared type (INVALID: not known; read as stored).
  std::vector<types::v1::ValueType::Enum> join_types;
  std::string timestamp_column;
  std::string created_column;  // empty: none (equal event times are then not told apart)
  struct Feature {
    std::string column;  // in the source (after the data source's field mapping)
    std::string name;    // the feature's name
    // Its declared type; INVALID: not known (the point-in-time join passes it as stored).
    types::v1::ValueType::Enum type = types::v1::ValueType::INVALID;
  };
  std::vector<Feature> features;
  absl::Duration ttl = absl::ZeroDuration();  // zero: no lower bound
};

// The offline rows of feature view `view` as the registry describes them: its batch source's
// table or query, timestamp and created-timestamp columns, and the columns of its entities'
// join keys and its features through the field mapping. NOT_FOUND naming the view when the
// project has none of that name; FAILED_PRECONDITION when its batch source is not a
// PostgreSQL table or query.
absl::StatusOr<ViewSource> SourceOfView(const registry_client::Catalog& catalog,
                                        absl::string_view view);

// Whether the source's table (or query) and every column it names exist: NOT_FOUND naming
// the view and what is missing (PostgreSQL's own words) otherwise. Reads no row.
absl::Status CheckSource(pqxx::dbtransaction& tx, const ViewSource& source);

}  // namespace granary::offlinestore

#endif  // GRANARY_LIBS_OFFLINESTORE_VIEW_SOURCE_H_
