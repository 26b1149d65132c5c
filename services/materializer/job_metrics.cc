#include "services/materializer/job_metrics.h"

#include <utility>

#include "libs/base/status_macros.h"

namespace granary::materializer {

namespace v1 = materialization::v1;

JobMetrics::JobMetrics(prometheus::Registry& registry, std::shared_ptr<JobStore> store,
                       absl::Duration interval)
    : store_(std::move(store)),
      periodic_("count materialization jobs", interval, [this] { return Refresh(); }) {
  auto& family = prometheus::BuildGauge()
                     .Name("granary_materializer_jobs")
                     .Help("Materialization jobs in each state (every replica counts them all).")
                     .Register(registry);
  for (v1::JobState state : {v1::PENDING, v1::RUNNING, v1::SUCCEEDED, v1::FAILED, v1::CANCELLED}) {
    gauges_[state] = &family.Add({{"state", v1::JobState_Name(state)}});
  }
}

absl::Status JobMetrics::Refresh() {
  ASSIGN_OR_RETURN(auto counts, store_->CountByState());
  for (auto& [state, gauge] : gauges_) {
    auto it = counts.find(state);
    gauge->Set(it == counts.end() ? 0 : static_cast<double>(it->second));
  }
  return absl::OkStatus();
}

}  // namespace granary::materializer
