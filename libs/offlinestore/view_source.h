// Where a feature view's rows are in the offline store and which columns are what: what the
// point-in-time join and materialization read. Built from the registry's data source (table or
// query, field mapping, timestamp and created-timestamp columns).
#ifndef GRANARY_LIBS_OFFLINESTORE_VIEW_SOURCE_H_
#define GRANARY_LIBS_OFFLINESTORE_VIEW_SOURCE_H_

#include <string>
#include <vector>

#include "absl/time/time.h"

namespace granary::offlinestore {

// One feature view's rows.
struct ViewSource {
  std::string name;  // the feature view, for full feature names
  // A table (optionally schema.table), or, when `query` is set, that query's rows.
  std::string table;
  std::string query;
  // The source's columns for the entity rows' join keys, in the same order.
  std::vector<std::string> join_columns;
  std::string timestamp_column;
  std::string created_column;  // empty: none (equal event times are then not told apart)
  struct Feature {
    std::string column;  // in the source (after the data source's field mapping)
    std::string name;    // the feature's name
  };
  std::vector<Feature> features;
  absl::Duration ttl = absl::ZeroDuration();  // zero: no lower bound
};

}  // namespace granary::offlinestore

#endif  // GRANARY_LIBS_OFFLINESTORE_VIEW_SOURCE_H_
