// Turns a Materialize or MaterializeIncremental request into a job's plan: which views, over
// which event-time ranges, split into which tasks (view x time range x entity-hash shard).
// Pure: the registry's state comes in as arguments, so every rule is tested without a server.
//
//   ASSIGN_OR_RETURN(JobPlan plan, PlanMaterialize(request, *catalog, options));
#ifndef GRANARY_SERVICES_MATERIALIZER_JOB_PLANNER_H_
#define GRANARY_SERVICES_MATERIALIZER_JOB_PLANNER_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "granary/materialization/v1/materialization.pb.h"

#include "libs/registry_client/catalog.h"
#include "services/materializer/job_store.h"

namespace granary::materializer {

struct PlanOptions {
  // Entity-hash shards per view and time range, when the request asks for none.
  int shards = 4;
  // Each view's range is cut into spans this long (zero: one span). Spans multiply the rows
  // read (an entity's latest row of each span is written), so they only pay for ranges far
  // longer than the history a task can read at once.
  absl::Duration task_span = absl::ZeroDuration();
  // More tasks than this is refused (INVALID_ARGUMENT): a request that would flood the queue.
  int max_tasks = 10000;
};

// The start of time for a view without a TTL materialized incrementally for the first time:
// the earliest time a protobuf Timestamp holds (0001-01-01), what the registry can record.
absl::Time EarliestTime();

// The views a request names (NOT_FOUND naming every one the project lacks; FAILED_PRECONDITION
// for a view that is not online or has no batch source), or, when it names none, every online
// view with a batch source.
absl::StatusOr<std::vector<const registry::v1::FeatureView*>> ViewsToMaterialize(
    const registry_client::Catalog& catalog, const std::vector<std::string>& names);

// [start, end) for every view. INVALID_ARGUMENT naming the field when end is not after start.
absl::StatusOr<JobPlan> PlanMaterialize(const materialization::v1::MaterializeRequest& request,
                                        const registry_client::Catalog& catalog,
                                        const PlanOptions& options);

// When each view was last materialized up to (nullopt: never), from the registry.
using LastEndFn = std::function<absl::StatusOr<std::optional<absl::Time>>(const std::string& view)>;

// Each view from where its last materialization ended, else end - ttl (the earliest time for
// a view without one); a view already materialized up to `end` is left out.
absl::StatusOr<JobPlan> PlanIncremental(
    const materialization::v1::MaterializeIncrementalRequest& request,
    const registry_client::Catalog& catalog, const LastEndFn& last_end, const PlanOptions& options);

}  // namespace granary::materializer

#endif  // GRANARY_SERVICES_MATERIALIZER_JOB_PLANNER_H_
