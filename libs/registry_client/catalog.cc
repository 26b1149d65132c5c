#include "libs/registry_client/catalog.h"

#include <atomic>

namespace granary::registry_client {
namespace {

template <typename T, typename Index>
void IndexByName(const google::protobuf::RepeatedPtrField<T>& objects, Index* index) {
  for (const T& object : objects) index->emplace(object.name(), &object);
}

template <typename T, typename Index>
const T* Find(const Index& index, absl::string_view name) {
  auto it = index.find(name);
  return it == index.end() ? nullptr : it->second;
}

uint64_t NextSerial() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

Catalog::Catalog(registry::v1::Snapshot snapshot)
    : snapshot_(std::move(snapshot)),
      serial_(NextSerial()),
      committed_time_(absl::FromUnixSeconds(snapshot_.committed_time().seconds()) +
                      absl::Nanoseconds(snapshot_.committed_time().nanos())) {
  const auto& repo = snapshot_.repo();
  IndexByName(repo.entities(), &entities_);
  IndexByName(repo.data_sources(), &data_sources_);
  IndexByName(repo.feature_views(), &feature_views_);
  IndexByName(repo.on_demand_feature_views(), &on_demand_feature_views_);
  IndexByName(repo.feature_services(), &feature_services_);
}

const registry::v1::Entity* Catalog::FindEntity(absl::string_view name) const {
  return Find<registry::v1::Entity>(entities_, name);
}

const registry::v1::DataSource* Catalog::FindDataSource(absl::string_view name) const {
  return Find<registry::v1::DataSource>(data_sources_, name);
}

const registry::v1::FeatureView* Catalog::FindFeatureView(absl::string_view name) const {
  return Find<registry::v1::FeatureView>(feature_views_, name);
}

const registry::v1::OnDemandFeatureView* Catalog::FindOnDemandFeatureView(
    absl::string_view name) const {
  return Find<registry::v1::OnDemandFeatureView>(on_demand_feature_views_, name);
}

const registry::v1::FeatureService* Catalog::FindFeatureService(absl::string_view name) const {
  return Find<registry::v1::FeatureService>(feature_services_, name);
}

}  // namespace granary::registry_client
