#include "services/materializer/task_runner.h"

#include <algorithm>
#include <numeric>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "pqxx/pqxx"

#include "libs/base/log.h"
#include "libs/base/proto_time.h"
#include "libs/base/status_macros.h"
#include "libs/keys/entity_key.h"
#include "libs/keys/hash_field.h"
#include "libs/offlinestore/latest_rows.h"
#include "libs/offlinestore/view_source.h"
#include "libs/trace/trace_context.h"
#include "services/materializer/write_time_writes.h"

namespace granary::materializer {
namespace {

// The Redis hash of each row: Feast's key of the view's join keys (sorted by name) and the
// project, with the parts that never change built once.
class KeyBuilder {
 public:
  KeyBuilder(const std::vector<std::string>& join_keys, std::string project)
      : order_(join_keys.size()), project_(std::move(project)) {
    std::iota(order_.begin(), order_.end(), 0);
    std::sort(order_.begin(), order_.end(),
              [&](size_t a, size_t b) { return join_keys[a] < join_keys[b]; });
    std::vector<std::string> sorted;
    for (size_t i : order_) sorted.push_back(join_keys[i]);
    prefix_ = keys::JoinKeysPrefix(sorted);
  }
  absl::StatusOr<std::string> Key(const std::vector<types::v1::Value>& values) const {
    std::string key = prefix_;
    for (size_t i : order_) RETURN_IF_ERROR(keys::AppendKeyValue(values[i], &key));
    key += project_;
    return key;
  }

 private:
  std::vector<size_t> order_;
  std::string prefix_;
  std::string project_;
};

// Keeps a message alive every `every` until destroyed.
class KeepAliveThread {
 public:
  KeepAliveThread(bus::Message& message, absl::Duration every)
      : thread_([this, &message, every] {
          absl::MutexLock lock(&mu_);
          while (!mu_.AwaitWithTimeout(absl::Condition(&done_), every)) {
            message.InProgress().IgnoreError();  // at worst the task runs again elsewhere
          }
        }) {}
  ~KeepAliveThread() {
    {
      absl::MutexLock lock(&mu_);
      done_ = true;
    }
    thread_.join();
  }

 private:
  absl::Mutex mu_;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace

TaskRunner::TaskRunner(TaskRunnerOptions options, std::shared_ptr<JobStore> jobs,
                       std::shared_ptr<pg::Pool> offline,
                       std::shared_ptr<onlinestore::OnlineStore> store, CatalogLookup lookup,
                       std::shared_ptr<MaterializationLedger> ledger,
                       std::shared_ptr<WriterMetrics> metrics)
    : options_(std::move(options)),
      jobs_(std::move(jobs)),
      offline_(std::move(offline)),
      store_(std::move(store)),
      lookup_(std::move(lookup)),
      ledger_(std::move(ledger)),
      metrics_(std::move(metrics)) {}

Handled TaskRunner::Handle(bus::Message& message) {
  events::v1::MaterializationTask task;
  int index = 0;
  if (!task.ParseFromArray(message.data().data(), static_cast<int>(message.data().size())) ||
      !absl::SimpleAtoi(task.task_id(), &index)) {
    return {absl::DataLossError("undecodable materialization task")};
  }
  // The catalog first: while the registry is away, no attempt is spent.
  absl::StatusOr<std::shared_ptr<const registry_client::Catalog>> catalog = lookup_(task.project());
  absl::Status gone;
  if (absl::IsNotFound(catalog.status())) {
    gone = absl::FailedPreconditionError(
        absl::StrCat("project ", task.project(), " is no longer in the registry"));
  } else if (!catalog.ok()) {
    return {catalog.status()};
  } else if ((*catalog)->version() < task.registry_version()) {
    return {absl::UnavailableError(absl::StrCat("catalog of ", task.project(), " at version ",
                                                (*catalog)->version(), ", the job was planned at ",
                                                task.registry_version()))};
  }
  int attempt = 0;
  absl::StatusOr<TaskStart> start =
      jobs_->StartTask(task.job_id(), index, options_.worker, &attempt);
  if (absl::IsNotFound(start.status())) return {absl::OkStatus(), /*skipped=*/true};  // purged
  if (!start.ok()) return {absl::UnavailableError(start.status().message())};
  if (*start == TaskStart::kSkip) return {absl::OkStatus(), /*skipped=*/true};
  if (*start == TaskStart::kRun) {
    absl::Status ran;
    {
      // Kept alive from a thread of its own: PostgreSQL may sort for long before the first
      // row, and a task redelivered while it runs would be run twice.
      KeepAliveThread keep_alive(message, options_.keep_alive_every);
      ran = gone.ok() ? Run(task, index, attempt, **catalog) : gone;
    }
    if (absl::IsCancelled(ran)) {
      // Its job ended while it ran (skipped, where it got to kept), or another run took it
      // over (which settles it).
      absl::Status skipped = jobs_->SkipTask(task.job_id(), index, attempt);
      if (!skipped.ok()) return {absl::UnavailableError(skipped.message())};
      return {absl::OkStatus(), /*skipped=*/true};
    }
    if (!ran.ok()) {
      const bool final =
          IsPermanent(ran) || absl::IsNotFound(ran) || attempt >= options_.max_attempts;
      base::LogWarning("materialization task failed")
          .With("trace_id", trace::TraceIdOf(message.traceparent()))
          .With("job", task.job_id())
          .With("task", index)
          .With("attempt", attempt)
          .With("final", final)
          .With("error", ran.message());
      absl::Status recorded =
          jobs_->FailTask(task.job_id(), index, attempt, std::string(ran.message()), final);
      if (!recorded.ok()) return {absl::UnavailableError(recorded.message())};
      if (final) return {absl::OkStatus()};
      // Passes (never dead-lettered): redelivered after the worker's backoff.
      return {absl::UnavailableError(ran.message())};
    }
  }
  absl::Status completed = CompleteJob(task);
  if (!completed.ok()) return {absl::UnavailableError(completed.message())};
  return {absl::OkStatus()};
}

absl::Status TaskRunner::Run(const events::v1::MaterializationTask& task, int index, int attempt,
                             const registry_client::Catalog& catalog) {
  const registry::v1::FeatureView* view = catalog.FindFeatureView(task.feature_view());
  if (view == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat("feature view ", task.feature_view(),
                                                      " is no longer in project ", task.project()));
  }
  ASSIGN_OR_RETURN(offlinestore::ViewSource source,
                   offlinestore::SourceOfView(catalog, task.feature_view()));
  onlinestore::ViewWrite write;
  write.view = task.feature_view();
  write.view_version = view->meta().created_version();
  std::vector<std::string> features;
  for (const auto& feature : source.features) {
    write.feature_fields.push_back(keys::FeatureField(task.feature_view(), feature.name));
    features.push_back(feature.name);
  }
  const KeyBuilder keys(source.join_keys, task.project());
  const std::unique_ptr<onlinestore::OnlineStoreSession> session = store_->NewSession();
  int64_t read = 0;
  int64_t written = 0;
  absl::Time reported = absl::Now();
  auto each = [&](std::vector<offlinestore::LatestRow>& rows) -> absl::Status {
    write.rows.clear();
    write.rows.reserve(rows.size());
    for (offlinestore::LatestRow& row : rows) {
      onlinestore::RowWrite& out = write.rows.emplace_back();
      ASSIGN_OR_RETURN(out.key, keys.Key(row.keys));
      out.event_time = row.event_time;
      // A row without a created time loses a tie with any row that has one.
      out.created_time = row.created_time.value_or(absl::InfinitePast());
      out.values.reserve(row.features.size());
      for (const types::v1::Value& v : row.features) out.values.push_back(v.SerializeAsString());
    }
    ASSIGN_OR_RETURN(onlinestore::WriteResult result,
                     session->WriteNewer(write, absl::Now() + options_.write_timeout));
    if (!write.rows.empty() && result.wrong_type_rows.empty()) {
      // Freshness covers views fed by materialization too, not only pushed ones. Rows not
      // written were beaten by newer ones already online: Redis holds something at least this
      // new either way (so a restarted worker's first task tells the age again).
      absl::Time newest = absl::InfinitePast();
      for (const onlinestore::RowWrite& row : write.rows) newest = std::max(newest, row.event_time);
      metrics_->RecordNewestOnline(task.project(), task.feature_view(), newest);
    }
    if (!result.wrong_type_rows.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          result.wrong_type_rows.size(), " key(s) of feature view ", task.feature_view(),
          " hold something other than a hash in Redis (WRONGTYPE), e.g. the "
          "entity of row ",
          result.wrong_type_rows[0] + 1, " of a batch"));
    }
    // The write-time on-demand views the view feeds, from the same rows, before the progress
    // that says these rows are done.
    RETURN_IF_ERROR(WriteWriteTimeViews(catalog, write, features, *session, options_.write_timeout,
                                        *metrics_, "task-runner"));
    read += static_cast<int64_t>(rows.size());
    written += result.written;
    metrics_->RecordRowsWritten("task-runner", result.written);
    const absl::Time now = absl::Now();
    if (now - reported >= options_.progress_every) {
      reported = now;
      ASSIGN_OR_RETURN(bool go_on, jobs_->Progress(task.job_id(), index, attempt, read, written));
      if (!go_on) return absl::CancelledError("the job ended, or another run took the task");
    }
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(offline_->WithConnection([&](pqxx::connection& conn) -> absl::Status {
    pqxx::transaction<pqxx::read_committed, pqxx::read_only> tx(conn);
    // The task's read is one statement as long as the task: the pool's default limit is for
    // short statements.
    tx.exec(absl::StrCat("SET LOCAL statement_timeout = ",
                         absl::ToInt64Milliseconds(options_.task_timeout)));
    RETURN_IF_ERROR(offlinestore::CheckSource(tx, source));
    return offlinestore::ReadLatestRows(
        tx, source, base::FromProtoTime(task.start_time()), base::FromProtoTime(task.end_time()),
        offlinestore::Shard{task.shard(), task.shard_count()}, options_.batch_rows, each);
  }));
  ASSIGN_OR_RETURN(bool recorded, jobs_->FinishTask(task.job_id(), index, attempt, read, written));
  if (!recorded) return absl::CancelledError("another run took the task over");
  return absl::OkStatus();
}

absl::Status TaskRunner::CompleteJob(const events::v1::MaterializationTask& task) {
  ASSIGN_OR_RETURN(std::optional<std::vector<JobPlan::Range>> ranges,
                   jobs_->Completable(task.job_id()));
  if (!ranges.has_value()) return absl::OkStatus();
  for (const JobPlan::Range& range : *ranges) {
    RETURN_IF_ERROR(ledger_->Record(task.project(), task.job_id(), range));
  }
  return jobs_->Succeed(task.job_id());
}

}  // namespace granary::materializer
