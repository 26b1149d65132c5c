// Runs materialization tasks from GRANARY_TASKS (one per message, on a StreamWorker): streams
// the latest row per entity of the task's view, range and shard out of PostgreSQL (COPY, one
// batch in memory at a time) and writes each batch to Redis with the guarded writes of
// libs/onlinestore (newest event time, then newest created time, wins), so running a task
// twice, or two tasks over the same entity in any order, leaves the same online values.
// Progress goes to the job store about once a second, which is also when a cancelled job is
// noticed; the message is kept alive from a thread of its own while the task runs (also while
// PostgreSQL sorts before the first row) and acknowledged only once its rows are written and
// its success recorded. Each run names its attempt: a run that another worker took over (the
// task was delivered again) records nothing. A failing task is retried with backoff up to
// `max_attempts` (counted in the job store, so a worker that dies mid-task counts too), then
// fails its job with the reason; a task that can never succeed (its table is missing, a row is
// not of its type) fails its job at once. The worker finishing a job's last task records its
// intervals in the registry, then marks it SUCCEEDED.
//
//   auto runner = std::make_shared<TaskRunner>(options, jobs, offline, store, lookup, ledger,
//                                              metrics);
//   StreamWorker worker({.stream = "GRANARY_TASKS", .durable = "task-runner"}, js, js, runner,
//                       metrics, clock);
#ifndef GRANARY_SERVICES_MATERIALIZER_TASK_RUNNER_H_
#define GRANARY_SERVICES_MATERIALIZER_TASK_RUNNER_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "granary/events/v1/events.pb.h"

#include "libs/onlinestore/online_store.h"
#include "libs/pg/pool.h"
#include "services/materializer/job_store.h"
#include "services/materializer/materialization_ledger.h"
#include "services/materializer/online_writer.h"
#include "services/materializer/stream_worker.h"
#include "services/materializer/writer_metrics.h"

namespace granary::materializer {

struct TaskRunnerOptions {
  // Attempts of a task before its job fails.
  int max_attempts = 10;
  // Rows read from PostgreSQL and written to Redis at a time.
  size_t batch_rows = 2000;
  // How often progress is recorded (and cancellation noticed).
  absl::Duration progress_every = absl::Seconds(1);
  // How often the task's message is kept alive: well inside the consumer's ack_wait.
  absl::Duration keep_alive_every = absl::Seconds(10);
  // The longest a task's read may run in PostgreSQL; zero: no limit.
  absl::Duration task_timeout = absl::ZeroDuration();
  // One batch's write to Redis.
  absl::Duration write_timeout = absl::Seconds(5);
  // This worker's name in the job store ("host:pid").
  std::string worker;
};

class TaskRunner : public MessageHandler {
 public:
  TaskRunner(TaskRunnerOptions options, std::shared_ptr<JobStore> jobs,
             std::shared_ptr<pg::Pool> offline, std::shared_ptr<onlinestore::OnlineStore> store,
             CatalogLookup lookup, std::shared_ptr<MaterializationLedger> ledger,
             std::shared_ptr<WriterMetrics> metrics);

  Handled Handle(bus::Message& message) override;

 private:
  // Reads and writes the task's rows as run `attempt`; CANCELLED when its job ended meanwhile
  // or another run took the task over (seen at a progress report or at the end).
  absl::Status Run(const events::v1::MaterializationTask& task, int index, int attempt,
                   const registry_client::Catalog& catalog);
  // Records the job's intervals and marks it SUCCEEDED once every task succeeded.
  absl::Status CompleteJob(const events::v1::MaterializationTask& task);

  const TaskRunnerOptions options_;
  const std::shared_ptr<JobStore> jobs_;
  const std::shared_ptr<pg::Pool> offline_;
  const std::shared_ptr<onlinestore::OnlineStore> store_;
  const CatalogLookup lookup_;
  const std::shared_ptr<MaterializationLedger> ledger_;
  const std::shared_ptr<WriterMetrics> metrics_;
};

}  // namespace granary::materializer

#endif  // GRANARY_SERVICES_MATERIALIZER_TASK_RUNNER_H_
