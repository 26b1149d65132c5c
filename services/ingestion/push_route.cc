#include "services/ingestion/push_route.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace granary::ingestion {

using types::v1::ValueType;

absl::StatusOr<std::shared_ptr<const PushRoute>> RoutePush(const registry_client::Catalog& catalog,
                                                           const std::string& push_source) {
  const auto* source = catalog.FindDataSource(push_source);
  if (source == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("push source \"", push_source, "\" not found in project ", catalog.project()));
  }
  if (!source->has_push()) {
    return absl::FailedPreconditionError(
        absl::StrCat("data source \"", push_source, "\" is not a push source"));
  }
  const auto* batch = catalog.FindDataSource(source->push().batch_source());
  if (batch == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("push source \"", push_source, "\": batch source \"",
                     source->push().batch_source(), "\" not found"));
  }
  auto route = std::make_shared<PushRoute>();
  route->project = catalog.project();
  route->registry_version = catalog.version();
  route->push_source = push_source;
  route->timestamp_column = batch->timestamp_field();
  route->created_column = batch->created_timestamp_column();
  route->columns[route->timestamp_column] = ValueType::UNIX_TIMESTAMP;
  if (!route->created_column.empty()) {
    route->columns[route->created_column] = ValueType::UNIX_TIMESTAMP;
  }
  for (const auto& view : catalog.repo().feature_views()) {
    if (view.stream_source() != push_source) continue;
    RoutedView routed{.name = view.name(),
                      .online = !view.has_online() || view.online(),
                      .view_version = view.meta().created_version()};
    for (const std::string& entity_name : view.entities()) {
      const auto* entity = catalog.FindEntity(entity_name);
      if (entity == nullptr) continue;  // the registry validates references; be safe anyway
      std::string key = entity->join_key().empty() ? entity->name() : entity->join_key();
      routed.join_keys.push_back({key, entity->value_type()});
      route->columns[key] = entity->value_type();
    }
    std::sort(routed.join_keys.begin(), routed.join_keys.end(),
              [](const RoutedKey& a, const RoutedKey& b) { return a.name < b.name; });
    for (const auto& field : view.schema()) {
      routed.features.push_back({field.name(), field.dtype()});
      route->columns.emplace(field.name(), field.dtype());
    }
    route->views.push_back(std::move(routed));
  }
  if (route->views.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("push source \"", push_source, "\" feeds no feature view"));
  }
  std::sort(route->views.begin(), route->views.end(),
            [](const RoutedView& a, const RoutedView& b) { return a.name < b.name; });
  return route;
}

absl::StatusOr<std::shared_ptr<const PushRoute>> RouteCache::Get(
    const registry_client::Catalog& catalog, const std::string& push_source) {
  std::string key = absl::StrCat(catalog.project(), "/", push_source);
  {
    absl::MutexLock lock(&mu_);
    auto it = routes_.find(key);
    if (it != routes_.end() && it->second.first == catalog.serial()) return it->second.second;
  }
  absl::StatusOr<std::shared_ptr<const PushRoute>> route = RoutePush(catalog, push_source);
  if (!route.ok()) return route;
  absl::MutexLock lock(&mu_);
  routes_[key] = {catalog.serial(), *route};
  return route;
}

}  // namespace granary::ingestion
