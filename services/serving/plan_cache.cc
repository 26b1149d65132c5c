#include "services/serving/plan_cache.h"

#include <string>

#include "absl/container/flat_hash_map.h"

#include "libs/base/status_macros.h"

namespace granary::serving {
namespace {

constexpr size_t kMaxPlansPerThread = 1024;

// The request's shape as bytes: project, naming, and what is asked for, separated by bytes
// that cannot occur in names.
void ShapeKey(const std::string& project, const v1::GetOnlineFeaturesRequest& request,
              std::string* key) {
  key->clear();
  key->append(project);
  key->push_back('\0');
  key->push_back(request.full_feature_names() ? 'F' : 'f');
  if (request.kind_case() == v1::GetOnlineFeaturesRequest::kFeatureService) {
    key->push_back('s');
    key->append(request.feature_service());
    return;
  }
  key->push_back('r');
  for (const std::string& ref : request.features().val()) {
    key->append(ref);
    key->push_back('\0');
  }
}

}  // namespace

absl::StatusOr<std::shared_ptr<const ReadPlan>> CachedPlan(
    const registry_client::Catalog& catalog, const v1::GetOnlineFeaturesRequest& request,
    const ReadPlanOptions& options) {
  thread_local absl::flat_hash_map<std::string, std::shared_ptr<const ReadPlan>> plans;
  thread_local std::string key;
  ShapeKey(catalog.project(), request, &key);
  auto it = plans.find(key);
  if (it != plans.end() && it->second->catalog_serial == catalog.serial()) return it->second;

  ASSIGN_OR_RETURN(FeatureSelection selection, FeatureSelection::FromRequest(request));
  ASSIGN_OR_RETURN(std::shared_ptr<const ReadPlan> plan,
                   BuildReadPlan(catalog, selection, options));
  if (it != plans.end()) {
    it->second = plan;
  } else {
    if (plans.size() >= kMaxPlansPerThread) plans.clear();
    plans.emplace(key, plan);
  }
  return plan;
}

}  // namespace granary::serving
