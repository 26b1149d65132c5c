#include "services/materializer/jobs.h"

#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "granary/events/v1/events.pb.h"
#include "pqxx/pqxx"

#include "libs/base/log.h"
#include "libs/base/proto_time.h"
#include "libs/base/status_macros.h"
#include "libs/offlinestore/view_source.h"
#include "libs/trace/trace_context.h"

namespace granary::materializer {

namespace v1 = materialization::v1;

Jobs::Jobs(JobsOptions options, std::shared_ptr<JobStore> store,
           std::shared_ptr<bus::AckedPublisher> tasks, CatalogLookup lookup,
           std::shared_ptr<MaterializationLedger> ledger, std::shared_ptr<pg::Pool> offline)
    : options_(std::move(options)),
      store_(std::move(store)),
      tasks_(std::move(tasks)),
      lookup_(std::move(lookup)),
      ledger_(std::move(ledger)),
      offline_(std::move(offline)) {}

absl::StatusOr<std::shared_ptr<const registry_client::Catalog>> Jobs::CatalogOf(
    const std::string& project) {
  const std::string& name = project.empty() ? options_.default_project : project;
  if (name.empty()) {
    return absl::InvalidArgumentError("project: required (this materializer has no default)");
  }
  absl::StatusOr<std::shared_ptr<const registry_client::Catalog>> catalog = lookup_(name);
  if (absl::IsNotFound(catalog.status())) {
    return absl::NotFoundError(absl::StrCat("project ", name, " does not exist"));
  }
  return catalog;
}

absl::StatusOr<v1::Job> Jobs::Materialize(const v1::MaterializeRequest& request,
                                          const std::string& caller, bool force,
                                          const std::string& traceparent) {
  ASSIGN_OR_RETURN(auto catalog, CatalogOf(request.project()));
  ASSIGN_OR_RETURN(JobPlan plan, PlanMaterialize(request, *catalog, options_.plan));
  plan.created_by = caller;
  return Start(std::move(plan), *catalog, force, traceparent);
}

absl::StatusOr<v1::Job> Jobs::MaterializeIncremental(
    const v1::MaterializeIncrementalRequest& request, const std::string& caller, bool force,
    const std::string& traceparent) {
  ASSIGN_OR_RETURN(auto catalog, CatalogOf(request.project()));
  const std::string project = catalog->project();
  LastEndFn last_end = [&](const std::string& view) -> absl::StatusOr<std::optional<absl::Time>> {
    absl::StatusOr<std::optional<absl::Time>> end = ledger_->LastEnd(project, view);
    if (!end.ok() && !absl::IsNotFound(end.status())) {
      // The registry is away: nothing is planned on a guess of where the last job ended.
      return absl::UnavailableError(
          absl::StrCat("cannot ask the registry where feature view ", view,
                       " was last materialized: ", end.status().message()));
    }
    return end;
  };
  ASSIGN_OR_RETURN(JobPlan plan, PlanIncremental(request, *catalog, last_end, options_.plan));
  plan.created_by = caller;
  return Start(std::move(plan), *catalog, force, traceparent);
}

absl::StatusOr<v1::Job> Jobs::Start(JobPlan plan, const registry_client::Catalog& catalog,
                                    bool force, const std::string& traceparent) {
  // A missing table or column is the caller's to hear now, not a job failing later.
  RETURN_IF_ERROR(offline_->WithConnection([&](pqxx::connection& conn) -> absl::Status {
    pqxx::transaction<pqxx::read_committed, pqxx::read_only> tx(conn);
    for (const JobPlan::Range& range : plan.ranges) {
      ASSIGN_OR_RETURN(offlinestore::ViewSource source,
                       offlinestore::SourceOfView(catalog, range.feature_view));
      RETURN_IF_ERROR(offlinestore::CheckSource(tx, source));
    }
    return absl::OkStatus();
  }));
  ASSIGN_OR_RETURN(v1::Job job, store_->Create(plan, force));
  if (job.tasks_total() > 0) {
    absl::Status queued = Queue(job.job_id(), plan.project, plan.registry_version, traceparent);
    if (!queued.ok()) {
      // The job is stored: a replica queues it again (RequeueUnpublished).
      base::LogWarning("a job's tasks could not all be queued; they will be again")
          .With("trace_id", trace::TraceIdOf(traceparent))
          .With("job", job.job_id())
          .With("error", queued.message());
    }
  }
  return job;
}

absl::Status Jobs::Queue(const std::string& job_id, const std::string& project,
                         int64_t registry_version, const std::string& traceparent) {
  ASSIGN_OR_RETURN(std::vector<TaskSpec> specs, store_->Tasks(job_id));
  const std::string subject = absl::StrCat("granary.tasks.", project);
  absl::Mutex mu;
  size_t pending = specs.size();
  absl::Status first_error;
  for (size_t i = 0; i < specs.size(); ++i) {
    const TaskSpec& spec = specs[i];
    events::v1::MaterializationTask task;
    task.set_job_id(job_id);
    task.set_task_id(absl::StrCat(i));
    task.set_project(project);
    task.set_feature_view(spec.feature_view);
    *task.mutable_start_time() = base::ToProtoTime(spec.start);
    *task.mutable_end_time() = base::ToProtoTime(spec.end);
    task.set_shard(spec.shard);
    task.set_shard_count(spec.shard_count);
    task.set_registry_version(registry_version);
    tasks_->PublishAsync(subject, task.SerializeAsString(), absl::StrCat(job_id, "/", i),
                         traceparent, [&](absl::StatusOr<bus::PublishAck> ack) {
                           absl::MutexLock lock(&mu);
                           if (!ack.ok() && first_error.ok()) first_error = ack.status();
                           --pending;
                         });
  }
  {
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(
        +[](size_t* p) { return *p == 0; }, &pending));
    RETURN_IF_ERROR(first_error);
  }
  return store_->MarkPublished(job_id);
}

absl::Status Jobs::RequeueUnpublished() {
  ASSIGN_OR_RETURN(std::vector<JobStore::Unqueued> jobs,
                   store_->Unpublished(absl::Now() - options_.requeue_after));
  absl::Status first_error;
  for (const JobStore::Unqueued& job : jobs) {
    // One job that cannot be queued does not hold the others back.
    absl::Status queued = Queue(job.job_id, job.project, job.registry_version, /*traceparent=*/"");
    if (!queued.ok()) {
      if (first_error.ok()) first_error = queued;
      continue;
    }
    base::LogInfo("queued the tasks of a job again").With("job", job.job_id);
  }
  return first_error;
}

absl::StatusOr<v1::Job> Jobs::Get(const std::string& job_id) {
  if (job_id.empty()) return absl::InvalidArgumentError("job_id: required");
  return store_->Get(job_id);
}

absl::StatusOr<v1::ListJobsResponse> Jobs::List(const v1::ListJobsRequest& request) {
  return store_->List(request.project(), request.state(), request.page_size(),
                      request.page_token());
}

absl::StatusOr<v1::Job> Jobs::Cancel(const std::string& job_id) {
  if (job_id.empty()) return absl::InvalidArgumentError("job_id: required");
  return store_->Cancel(job_id);
}

absl::Status Jobs::Watch(const std::string& job_id, const std::function<bool(const v1::Job&)>& send,
                         const std::function<bool()>& gone) {
  ASSIGN_OR_RETURN(v1::Job job, Get(job_id));
  if (!send(job)) return absl::CancelledError("the watcher went away");
  v1::Job last = job;
  while (!JobStore::Final(last.state())) {
    absl::SleepFor(options_.watch_every);
    if (gone()) return absl::CancelledError("the watcher went away");
    ASSIGN_OR_RETURN(job, store_->Get(job_id));
    // The rate moves with the clock alone: a change is in what the workers did.
    const bool changed =
        job.state() != last.state() || job.tasks_succeeded() != last.tasks_succeeded() ||
        job.tasks_failed() != last.tasks_failed() || job.tasks_running() != last.tasks_running() ||
        job.rows_read() != last.rows_read() || job.rows_written() != last.rows_written() ||
        job.task_retries() != last.task_retries();
    if (changed && !send(job)) return absl::CancelledError("the watcher went away");
    last = job;
  }
  return absl::OkStatus();
}

}  // namespace granary::materializer
