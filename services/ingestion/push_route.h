// Where a push source's rows go, worked out once per registry version: the feature views it
// feeds, each with its join keys and features, and the columns a push may carry. Building it
// answers "is this push source usable at all"; PushBatches then checks each pushed batch.
//
//   ASSIGN_OR_RETURN(std::shared_ptr<const PushRoute> route, RoutePush(catalog, "driver_push"));
#ifndef GRANARY_SERVICES_INGESTION_PUSH_ROUTE_H_
#define GRANARY_SERVICES_INGESTION_PUSH_ROUTE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "granary/types/v1/value.pb.h"

#include "libs/registry_client/catalog.h"

namespace granary::ingestion {

struct RoutedKey {
  std::string name;
  types::v1::ValueType::Enum type;
};

struct RoutedFeature {
  std::string name;
  types::v1::ValueType::Enum dtype;
};

struct RoutedView {
  std::string name;
  // Sorted by name, as keys are built; empty for a view without entities.
  std::vector<RoutedKey> join_keys;
  std::vector<RoutedFeature> features;  // schema order
  // False for a view declared `online: false`: its pushed rows go offline only.
  bool online = true;
  // The view's incarnation (meta.created_version), carried by its batches.
  int64_t view_version = 0;
};

struct PushRoute {
  std::string project;
  int64_t registry_version = 0;
  std::string push_source;
  std::string timestamp_column;
  std::string created_column;     // empty when the batch source has none
  std::vector<RoutedView> views;  // sorted by name
  // Every column a push may carry -> its type (timestamps: UNIX_TIMESTAMP).
  absl::flat_hash_map<std::string, types::v1::ValueType::Enum> columns;
};

// NOT_FOUND when there is no such push source; FAILED_PRECONDITION when it is not a push
// source, its batch source is missing, or no feature view is fed by it.
absl::StatusOr<std::shared_ptr<const PushRoute>> RoutePush(const registry_client::Catalog& catalog,
                                                           const std::string& push_source);

// Routes computed for the catalog in use, reused until the catalog changes.
class RouteCache {
 public:
  absl::StatusOr<std::shared_ptr<const PushRoute>> Get(const registry_client::Catalog& catalog,
                                                       const std::string& push_source);

 private:
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::pair<uint64_t, std::shared_ptr<const PushRoute>>> routes_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace granary::ingestion

#endif  // GRANARY_SERVICES_INGESTION_PUSH_ROUTE_H_
