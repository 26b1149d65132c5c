// Materialization jobs as callers see them: Materialize and MaterializeIncremental plan a job
// (job_planner.h), check that every view's offline source exists, store it (job_store.h) and
// queue its tasks on GRANARY_TASKS, returning at once; the workers run it (task_runner.h).
// Tasks are published with ids of their own, so queuing them again is harmless: a job whose
// tasks were not all queued (NATS away, the replica died) is queued again by any replica's
// periodic RequeueUnpublished.
//
//   Jobs jobs(options, store, js, lookup, ledger, offline);
//   ASSIGN_OR_RETURN(Job job, jobs.Materialize(request, "alice"));
#ifndef GRANARY_SERVICES_MATERIALIZER_JOBS_H_
#define GRANARY_SERVICES_MATERIALIZER_JOBS_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "granary/materialization/v1/materialization.pb.h"

#include "libs/bus/publisher.h"
#include "libs/pg/pool.h"
#include "services/materializer/job_planner.h"
#include "services/materializer/job_store.h"
#include "services/materializer/materialization_ledger.h"
#include "services/materializer/online_writer.h"

namespace granary::materializer {

struct JobsOptions {
  // The project of requests that name none; empty: requests must name one.
  std::string default_project;
  PlanOptions plan;
  // How often WatchJob looks at the job.
  absl::Duration watch_every = absl::Milliseconds(500);
  // A job whose tasks were not all queued this long after its creation is queued again.
  absl::Duration requeue_after = absl::Seconds(30);
};

class Jobs {
 public:
  Jobs(JobsOptions options, std::shared_ptr<JobStore> store,
       std::shared_ptr<bus::AckedPublisher> tasks, CatalogLookup lookup,
       std::shared_ptr<MaterializationLedger> ledger, std::shared_ptr<pg::Pool> offline);

  // `traceparent`: the call's trace context, which the job's task messages carry to the
  // workers that run them (empty: none).
  absl::StatusOr<materialization::v1::Job> Materialize(
      const materialization::v1::MaterializeRequest& request, const std::string& caller,
      bool force = false, const std::string& traceparent = "");
  absl::StatusOr<materialization::v1::Job> MaterializeIncremental(
      const materialization::v1::MaterializeIncrementalRequest& request, const std::string& caller,
      bool force = false, const std::string& traceparent = "");
  absl::StatusOr<materialization::v1::Job> Get(const std::string& job_id);
  absl::StatusOr<materialization::v1::ListJobsResponse> List(
      const materialization::v1::ListJobsRequest& request);
  absl::StatusOr<materialization::v1::Job> Cancel(const std::string& job_id);
  // Sends the job, then again at each change, until it ends (OK), or `send` returns false or
  // `gone` true (the caller went away: CANCELLED).
  absl::Status Watch(const std::string& job_id,
                     const std::function<bool(const materialization::v1::Job&)>& send,
                     const std::function<bool()>& gone);

  // Queues the tasks of jobs created more than requeue_after ago and never fully queued.
  absl::Status RequeueUnpublished();

 private:
  absl::StatusOr<std::shared_ptr<const registry_client::Catalog>> CatalogOf(
      const std::string& project);
  // Checks the plan's sources, stores it and queues its tasks.
  absl::StatusOr<materialization::v1::Job> Start(JobPlan plan, const registry_client::Catalog&,
                                                 bool force, const std::string& traceparent);
  absl::Status Queue(const std::string& job_id, const std::string& project,
                     int64_t registry_version, const std::string& traceparent);

  const JobsOptions options_;
  const std::shared_ptr<JobStore> store_;
  const std::shared_ptr<bus::AckedPublisher> tasks_;
  const CatalogLookup lookup_;
  const std::shared_ptr<MaterializationLedger> ledger_;
  const std::shared_ptr<pg::Pool> offline_;
};

}  // namespace granary::materializer

#endif  // GRANARY_SERVICES_MATERIALIZER_JOBS_H_
