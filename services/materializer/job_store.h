// Materialization jobs and their tasks in PostgreSQL (schema `jobs`), the one place their state
// lives: any replica creates a job, any replica runs its tasks, any replica answers for it.
// Each task is a row; a job's counts are summed from its tasks when read, so the workers of
// one job never queue on one row. A job moves PENDING -> RUNNING (its first task started) ->
// SUCCEEDED (every task done, after the registry recorded its intervals), FAILED (a task
// failed for good) or CANCELLED (a caller); a task of a job that ended is skipped.
//
//   JobStore store(pool);
//   RETURN_IF_ERROR(store.Migrate());  // when the service is built
//   ASSIGN_OR_RETURN(Job job, store.Create(plan, /*force=*/false));
#ifndef GRANARY_SERVICES_MATERIALIZER_JOB_STORE_H_
#define GRANARY_SERVICES_MATERIALIZER_JOB_STORE_H_

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "granary/materialization/v1/materialization.pb.h"

#include "libs/pg/pool.h"

namespace granary::materializer {

// One unit of a job: one view's rows in [start, end) of one entity-hash shard.
struct TaskSpec {
  std::string feature_view;
  absl::Time start;
  absl::Time end;
  int shard = 0;
  int shard_count = 1;
};

// What a job will do, as planned (job_planner.h).
struct JobPlan {
  std::string project;
  materialization::v1::JobKind kind = materialization::v1::MATERIALIZE;
  std::string created_by;
  int64_t registry_version = 0;
  struct Range {
    std::string feature_view;
    absl::Time start;
    absl::Time end;
  };
  std::vector<Range> ranges;
  std::vector<TaskSpec> tasks;
};

// What a worker is to do with a task it was handed.
enum class TaskStart {
  kRun,   // run it (it is RUNNING now, its attempt counted)
  kSkip,  // its job ended (cancelled, failed): acknowledge it and do nothing
  kDone,  // it already succeeded (its acknowledgement was lost): only complete the job
};

class JobStore {
 public:
  explicit JobStore(std::shared_ptr<pg::Pool> pool);

  // Creates or upgrades the schema; run when the service is built.
  absl::Status Migrate();

  // The job, PENDING (SUCCEEDED at once when it has no task), with its tasks. Unless `force`,
  // FAILED_PRECONDITION naming the job when another pending or running job covers one of its
  // views.
  absl::StatusOr<materialization::v1::Job> Create(const JobPlan& plan, bool force);
  // The task specs of a job, by index (for publishing them).
  absl::StatusOr<std::vector<TaskSpec>> Tasks(const std::string& job_id);
  // Marks a job's tasks published: a job not marked is republished (RepublishDue).
  absl::Status MarkPublished(const std::string& job_id);
  // Pending jobs created before `before` whose tasks were never all published.
  struct Unqueued {
    std::string job_id;
    std::string project;
    int64_t registry_version = 0;
  };
  absl::StatusOr<std::vector<Unqueued>> Unpublished(absl::Time before);

  // NOT_FOUND naming the job.
  absl::StatusOr<materialization::v1::Job> Get(const std::string& job_id);
  // Newest first; `page_token` is the previous page's; next_page_token empty on the last.
  absl::StatusOr<materialization::v1::ListJobsResponse> List(const std::string& project,
                                                             materialization::v1::JobState state,
                                                             int page_size,
                                                             const std::string& page_token);
  // CANCELLED, its tasks not started skipped; running ones stop at their next progress report.
  // FAILED_PRECONDITION when it already SUCCEEDED or FAILED, or when every task succeeded (it
  // is being recorded as done); a cancelled job stays as it is.
  absl::StatusOr<materialization::v1::Job> Cancel(const std::string& job_id);
  // Whether a job ended (no task of it is to run any more).
  static bool Final(materialization::v1::JobState state);

  // How many jobs are in each state (states with none are absent): for the jobs gauge.
  absl::StatusOr<std::map<materialization::v1::JobState, int64_t>> CountByState();

  // A worker took task `index`. To run, it is RUNNING and its attempt counted: *attempt (when
  // given) is that attempt's number, which the calls below name, so that a run another worker
  // took over since (it was delivered again) changes nothing.
  absl::StatusOr<TaskStart> StartTask(const std::string& job_id, int index,
                                      const std::string& worker, int* attempt = nullptr);
  // A running task's counts so far; false when it is to stop: its job ended, or another run
  // took it over.
  absl::StatusOr<bool> Progress(const std::string& job_id, int index, int attempt,
                                int64_t rows_read, int64_t rows_written);
  // The task succeeded with these counts; false when another run took it over.
  absl::StatusOr<bool> FinishTask(const std::string& job_id, int index, int attempt,
                                  int64_t rows_read, int64_t rows_written);
  // The task failed; `final`: for good, and its job fails with the reason. Otherwise it is
  // retried and the error kept for GetJob. Nothing when another run took it over.
  absl::Status FailTask(const std::string& job_id, int index, int attempt, const std::string& error,
                        bool final);
  // A run stopped because its job ended: the task is SKIPPED (if that run still holds it).
  absl::Status SkipTask(const std::string& job_id, int index, int attempt);
  // The attempts a task has had.
  absl::StatusOr<int> Attempts(const std::string& job_id, int index);
  // When every task of a running job succeeded: its ranges, for recording before Succeed;
  // nullopt otherwise.
  absl::StatusOr<std::optional<std::vector<JobPlan::Range>>> Completable(const std::string& job_id);
  // RUNNING -> SUCCEEDED once every task succeeded (no effect otherwise).
  absl::Status Succeed(const std::string& job_id);

 private:
  // UNAVAILABLE until Migrate succeeded: no call runs against a missing table.
  absl::Status Ready() const;

  const std::shared_ptr<pg::Pool> pool_;
  std::atomic<bool> migrated_{false};
};

}  // namespace granary::materializer

#endif  // GRANARY_SERVICES_MATERIALIZER_JOB_STORE_H_
