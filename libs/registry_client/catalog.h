// One project's catalog at one version, immutable, with its objects indexed by name: what
// serving, ingestion and the materializer read on their request paths.
//
//   std::shared_ptr<const Catalog> catalog = client.Get("driver_stats");
//   if (const auto* view = catalog->FindFeatureView("driver_hourly_stats")) ...
#ifndef GRANARY_LIBS_REGISTRY_CLIENT_CATALOG_H_
#define GRANARY_LIBS_REGISTRY_CLIENT_CATALOG_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "granary/registry/v1/objects.pb.h"
#include "granary/registry/v1/repo.pb.h"

namespace granary::registry_client {

class Catalog {
 public:
  explicit Catalog(registry::v1::Snapshot snapshot);
  Catalog(const Catalog&) = delete;
  Catalog& operator=(const Catalog&) = delete;

  int64_t version() const { return snapshot_.version(); }
  // Unique to this object within the process (versions repeat across projects and tests):
  // what caches derived from a catalog are keyed by.
  uint64_t serial() const { return serial_; }
  absl::Time committed_time() const { return committed_time_; }
  const std::string& project() const { return snapshot_.repo().project().name(); }
  const registry::v1::FeatureRepo& repo() const { return snapshot_.repo(); }

  // nullptr when there is no such object.
  const registry::v1::Entity* FindEntity(absl::string_view name) const;
  const registry::v1::DataSource* FindDataSource(absl::string_view name) const;
  const registry::v1::FeatureView* FindFeatureView(absl::string_view name) const;
  const registry::v1::OnDemandFeatureView* FindOnDemandFeatureView(absl::string_view name) const;
  const registry::v1::FeatureService* FindFeatureService(absl::string_view name) const;

 private:
  template <typename T>
  using Index = absl::flat_hash_map<std::string, const T*>;

  const registry::v1::Snapshot snapshot_;
  const uint64_t serial_;
  absl::Time committed_time_;
  Index<registry::v1::Entity> entities_;
  Index<registry::v1::DataSource> data_sources_;
  Index<registry::v1::FeatureView> feature_views_;
  Index<registry::v1::OnDemandFeatureView> on_demand_feature_views_;
  Index<registry::v1::FeatureService> feature_services_;
};

}  // namespace granary::registry_client

#endif  // GRANARY_LIBS_REGISTRY_CLIENT_CATALOG_H_
