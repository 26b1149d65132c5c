// granary_materializer_jobs{state}: how many materialization jobs are in each state, counted
// in the job store every `interval` on a thread of its own (a slow database never holds a
// scrape up). Every replica counts the same jobs: aggregate them with max, not sum.
#ifndef GRANARY_SERVICES_MATERIALIZER_JOB_METRICS_H_
#define GRANARY_SERVICES_MATERIALIZER_JOB_METRICS_H_

#include <map>
#include <memory>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

#include "libs/base/periodic.h"
#include "services/materializer/job_store.h"

namespace granary::materializer {

class JobMetrics {
 public:
  // Every state's series exists (at 0) from the start.
  JobMetrics(prometheus::Registry& registry, std::shared_ptr<JobStore> store,
             absl::Duration interval);

  void Start() { periodic_.Start(); }
  void Stop() { periodic_.Stop(); }
  // One count now.
  absl::Status Refresh();

 private:
  std::shared_ptr<JobStore> store_;
  std::map<materialization::v1::JobState, prometheus::Gauge*> gauges_;
  base::Periodic periodic_;
};

}  // namespace granary::materializer

#endif  // GRANARY_SERVICES_MATERIALIZER_JOB_METRICS_H_
