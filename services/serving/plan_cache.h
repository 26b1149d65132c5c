// Read plans by request shape, kept per thread (no lock on the request path) and rebuilt when
// the catalog they came from is replaced. A thread that has seen too many shapes starts over,
// so the cache stays small whatever clients send.
//
//   ASSIGN_OR_RETURN(std::shared_ptr<const ReadPlan> plan, CachedPlan(*catalog, request, options));
#ifndef GRANARY_SERVICES_SERVING_PLAN_CACHE_H_
#define GRANARY_SERVICES_SERVING_PLAN_CACHE_H_

#include <memory>

#include "absl/status/statusor.h"
#include "granary/serving/v1/serving.pb.h"

#include "libs/registry_client/catalog.h"
#include "services/serving/read_plan.h"

namespace granary::serving {

// The plan for the request's shape (its features or feature service, and full_feature_names)
// against `catalog`; errors as BuildReadPlan's, never cached.
// `options` must be the same on every call (a process's setting: the cache is not keyed by
// it).
absl::StatusOr<std::shared_ptr<const ReadPlan>> CachedPlan(
    const registry_client::Catalog& catalog, const v1::GetOnlineFeaturesRequest& request,
    const ReadPlanOptions& options);

}  // namespace granary::serving

#endif  // GRANARY_SERVICES_SERVING_PLAN_CACHE_H_
