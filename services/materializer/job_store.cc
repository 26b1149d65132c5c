#include "services/materializer/job_store.h"

#include <cstdint>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "libs/base/proto_time.h"
#include "libs/base/status_macros.h"
#include "libs/pg/migrations.h"

namespace granary::materializer {
namespace {

namespace v1 = materialization::v1;

// A task's states in jobs.tasks.
enum TaskState : int {
  kPending = 0,  // not started, or failed and to be retried
  kRunning = 1,
  kSucceeded = 2,
  kFailed = 3,
  kSkipped = 4,  // its job ended first
};

const std::vector<pg::Migration>& Migrations() {
  // Times of ranges and tasks are epoch microseconds (bigint): exact, also for the open ends
  // (-infinity) and for what the registry records; the job's own times are timestamptz.
  static const auto* const kMigrations = new std::vector<pg::Migration>{{1, "jobs", R"sql(
      CREATE TABLE jobs.jobs (
        job_id text PRIMARY KEY,
        seq bigserial UNIQUE,
        project text NOT NULL,
        kind smallint NOT NULL,
        state smallint NOT NULL,
        created_by text NOT NULL,
        registry_version bigint NOT NULL,
        published boolean NOT NULL DEFAULT false,
        created_time timestamptz NOT NULL DEFAULT clock_timestamp(),
        started_time timestamptz,
        finished_time timestamptz,
        error text NOT NULL DEFAULT ''
      );
      CREATE INDEX jobs_active ON jobs.jobs (project) WHERE state IN (1, 2);
      CREATE TABLE jobs.ranges (
        job_id text NOT NULL REFERENCES jobs.jobs ON DELETE CASCADE,
        feature_view text NOT NULL,
        start_us bigint NOT NULL,
        end_us bigint NOT NULL,
        PRIMARY KEY (job_id, feature_view)
      );
      CREATE TABLE jobs.tasks (
        job_id text NOT NULL REFERENCES jobs.jobs ON DELETE CASCADE,
        task_index integer NOT NULL,
        feature_view text NOT NULL,
        start_us bigint NOT NULL,
        end_us bigint NOT NULL,
        shard integer NOT NULL,
        shard_count integer NOT NULL,
        state smallint NOT NULL DEFAULT 0,
        attempts integer NOT NULL DEFAULT 0,
        rows_read bigint NOT NULL DEFAULT 0,
        rows_written bigint NOT NULL DEFAULT 0,
        error text NOT NULL DEFAULT '',
        worker text NOT NULL DEFAULT '',
        updated_time timestamptz,
        PRIMARY KEY (job_id, task_index)
      );
  )sql"}};
  return *kMigrations;
}

// Epoch microseconds, with the open ends of time kept open.
int64_t ToMicros(absl::Time t) {
  if (t == absl::InfinitePast()) return INT64_MIN;
  if (t == absl::InfiniteFuture()) return INT64_MAX;
  return absl::ToUnixMicros(t);
}
absl::Time FromMicros(int64_t us) {
  if (us == INT64_MIN) return absl::InfinitePast();
  if (us == INT64_MAX) return absl::InfiniteFuture();
  return absl::FromUnixMicros(us);
}

// A timestamptz column as epoch microseconds (NULL stays NULL).
std::string Micros(const std::string& column) {
  return absl::StrCat("(extract(epoch FROM ", column, ") * 1000000)::bigint");
}

void SetTime(const pqxx::field& f, google::protobuf::Timestamp* out) {
  if (!f.is_null()) *out = base::ToProtoTime(absl::FromUnixMicros(f.as<int64_t>()));
}

// Every job column GET and LIST read, then the counts summed from its tasks.
std::string JobSelect() {
  return absl::StrCat(
      "SELECT j.job_id, j.project, j.kind, j.state, j.created_by, ", Micros("j.created_time"), ", ",
      Micros("j.started_time"), ", ", Micros("j.finished_time"), ", j.error, j.seq, ",
      "a.total, a.succeeded, a.failed, a.running, a.rows_read, a.rows_written, a.retries, "
      "a.last_error "
      "FROM jobs.jobs j CROSS JOIN LATERAL ("
      "  SELECT count(*) AS total,"
      "    count(*) FILTER (WHERE t.state = 2) AS succeeded,"
      "    count(*) FILTER (WHERE t.state = 3) AS failed,"
      "    count(*) FILTER (WHERE t.state = 1) AS running,"
      "    coalesce(sum(t.rows_read), 0) AS rows_read,"
      "    coalesce(sum(t.rows_written), 0) AS rows_written,"
      "    coalesce(sum(greatest(t.attempts - 1, 0)), 0) AS retries,"
      "    (SELECT t2.error FROM jobs.tasks t2 WHERE t2.job_id = j.job_id AND t2.error <> ''"
      "      ORDER BY t2.updated_time DESC NULLS LAST LIMIT 1) AS last_error"
      "  FROM jobs.tasks t WHERE t.job_id = j.job_id) a ");
}

v1::Job JobFromRow(const pqxx::row& r) {
  v1::Job job;
  job.set_job_id(r[0].c_str());
  job.set_project(r[1].c_str());
  job.set_kind(static_cast<v1::JobKind>(r[2].as<int>()));
  job.set_state(static_cast<v1::JobState>(r[3].as<int>()));
  job.set_created_by(r[4].c_str());
  SetTime(r[5], job.mutable_created_time());
  SetTime(r[6], job.mutable_started_time());
  SetTime(r[7], job.mutable_finished_time());
  job.set_error(r[8].c_str());
  job.set_tasks_total(r[10].as<int>());
  job.set_tasks_succeeded(r[11].as<int>());
  job.set_tasks_failed(r[12].as<int>());
  job.set_tasks_running(r[13].as<int>());
  job.set_rows_read(r[14].as<int64_t>());
  job.set_rows_written(r[15].as<int64_t>());
  job.set_task_retries(r[16].as<int>());
  if (!r[17].is_null()) job.set_last_task_error(r[17].c_str());
  // The rate over the time it has run (to now while running).
  if (!r[6].is_null()) {
    const absl::Time started = absl::FromUnixMicros(r[6].as<int64_t>());
    const absl::Time until =
        r[7].is_null() ? absl::Now() : absl::FromUnixMicros(r[7].as<int64_t>());
    const double seconds = absl::ToDoubleSeconds(until - started);
    if (seconds > 0) job.set_rows_per_second(static_cast<double>(job.rows_read()) / seconds);
  }
  return job;
}

// Fills the ranges of `jobs` (one query for all of them).
void AddRanges(pqxx::transaction_base& tx, std::vector<v1::Job*> jobs) {
  if (jobs.empty()) return;
  std::vector<std::string> ids;
  for (const v1::Job* job : jobs) ids.push_back(tx.quote(job->job_id()));
  pqxx::result r = tx.exec(absl::StrCat(
      "SELECT job_id, feature_view, start_us, end_us FROM jobs.ranges WHERE job_id IN (",
      absl::StrJoin(ids, ","), ") ORDER BY job_id, feature_view"));
  for (const auto& row : r) {
    for (v1::Job* job : jobs) {
      if (job->job_id() != row[0].c_str()) continue;
      v1::FeatureViewRange* range = job->add_ranges();
      range->set_feature_view(row[1].c_str());
      *range->mutable_start_time() = base::ToProtoTime(FromMicros(row[2].as<int64_t>()));
      *range->mutable_end_time() = base::ToProtoTime(FromMicros(row[3].as<int64_t>()));
    }
  }
}

absl::Status JobNotFound(const std::string& job_id) {
  return absl::NotFoundError(absl::StrCat("job ", job_id, " does not exist"));
}

// The job's state, its row locked for the rest of the transaction; NOT_FOUND without it.
absl::StatusOr<int> LockJob(pqxx::transaction_base& tx, const std::string& job_id) {
  pqxx::result r =
      tx.exec_params("SELECT state FROM jobs.jobs WHERE job_id = $1 FOR UPDATE", job_id);
  if (r.empty()) return JobNotFound(job_id);
  return r[0][0].as<int>();
}

}  // namespace

JobStore::JobStore(std::shared_ptr<pg::Pool> pool) : pool_(std::move(pool)) {}

absl::Status JobStore::Migrate() {
  if (migrated_) return absl::OkStatus();
  RETURN_IF_ERROR(pg::Migrate(*pool_, "jobs", Migrations()));
  migrated_ = true;
  return absl::OkStatus();
}

absl::Status JobStore::Ready() const {
  if (migrated_) return absl::OkStatus();
  return absl::UnavailableError(
      "the jobs schema is not migrated yet: PostgreSQL has not answered since the materializer "
      "started");
}

bool JobStore::Final(v1::JobState state) {
  return state == v1::SUCCEEDED || state == v1::FAILED || state == v1::CANCELLED;
}

absl::StatusOr<v1::Job> JobStore::Create(const JobPlan& plan, bool force) {
  RETURN_IF_ERROR(Ready());
  std::string job_id;
  RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& tx) -> absl::Status {
    // One creator per project at a time: the check for running jobs below and the insert are
    // then one step.
    tx.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))", "granary.jobs." + plan.project);
    if (!force) {
      for (const JobPlan::Range& range : plan.ranges) {
        pqxx::result busy = tx.exec_params(
            "SELECT j.job_id FROM jobs.jobs j JOIN jobs.ranges r USING (job_id) "
            "WHERE j.project = $1 AND j.state IN (1, 2) AND r.feature_view = $2 LIMIT 1",
            plan.project, range.feature_view);
        if (!busy.empty()) {
          return absl::FailedPreconditionError(
              absl::StrCat("feature view ", range.feature_view, " is being materialized by job ",
                           busy[0][0].c_str(), " (wait for it, cancel it, or force)"));
        }
      }
    }
    const int state = plan.tasks.empty() ? v1::SUCCEEDED : v1::PENDING;
    pqxx::result r = tx.exec_params(
        "INSERT INTO jobs.jobs (job_id, project, kind, state, created_by, registry_version, "
        "published, finished_time) VALUES (gen_random_uuid()::text, $1, $2, $3, $4, $5, $6, "
        "CASE WHEN $6 THEN clock_timestamp() END) RETURNING job_id",
        plan.project, static_cast<int>(plan.kind), state, plan.created_by, plan.registry_version,
        plan.tasks.empty());
    job_id = r[0][0].c_str();
    for (const JobPlan::Range& range : plan.ranges) {
      tx.exec_params(
          "INSERT INTO jobs.ranges (job_id, feature_view, start_us, end_us) "
          "VALUES ($1, $2, $3, $4)",
          job_id, range.feature_view, ToMicros(range.start), ToMicros(range.end));
    }
    // One statement for all tasks: a job of thousands of tasks is created in one round trip.
    pqxx::stream_to copy(tx, "jobs.tasks",
                         std::vector<std::string>{"job_id", "task_index", "feature_view",
                                                  "start_us", "end_us", "shard", "shard_count"});
    for (size_t i = 0; i < plan.tasks.size(); ++i) {
      const TaskSpec& t = plan.tasks[i];
      copy << std::make_tuple(job_id, static_cast<int>(i), t.feature_view, ToMicros(t.start),
                              ToMicros(t.end), t.shard, t.shard_count);
    }
    copy.complete();
    return absl::OkStatus();
  }));
  return Get(job_id);
}

absl::StatusOr<std::vector<TaskSpec>> JobStore::Tasks(const std::string& job_id) {
  RETURN_IF_ERROR(Ready());
  std::vector<TaskSpec> out;
  RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& tx) -> absl::Status {
    pqxx::result r = tx.exec_params(
        "SELECT feature_view, start_us, end_us, shard, shard_count FROM jobs.tasks "
        "WHERE job_id = $1 ORDER BY task_index",
        job_id);
    out.clear();
    for (const auto& row : r) {
      out.push_back({row[0].c_str(), FromMicros(row[1].as<int64_t>()),
                     FromMicros(row[2].as<int64_t>()), row[3].as<int>(), row[4].as<int>()});
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::map<v1::JobState, int64_t>> JobStore::CountByState() {
  RETURN_IF_ERROR(Ready());
  std::map<v1::JobState, int64_t> counts;
  RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& tx) {
    for (const auto& row : tx.exec("SELECT state, count(*) FROM jobs.jobs GROUP BY state")) {
      counts[static_cast<v1::JobState>(row[0].as<int>())] = row[1].as<int64_t>();
    }
    return absl::OkStatus();
  }));
  return counts;
}

absl::Status JobStore::MarkPublished(const std::string& job_id) {
  RETURN_IF_ERROR(Ready());
  return pool_->Transact([&](pqxx::work& tx) {
    tx.exec_params("UPDATE jobs.jobs SET published = true WHERE job_id = $1", job_id);
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<JobStore::Unqueued>> JobStore::Unpublished(absl::Time before) {
  RETURN_IF_ERROR(Ready());
  std::vector<Unqueued> out;
  RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& tx) -> absl::Status {
    out.clear();
    pqxx::result r = tx.exec_params(
        "SELECT job_id, project, registry_version FROM jobs.jobs WHERE NOT published AND state IN "
        "(1, 2) "
        "AND created_time < 'epoch'::timestamptz + $1 * interval '1 microsecond' ORDER BY seq",
        absl::ToUnixMicros(before));
    for (const auto& row : r) {
      out.push_back({row[0].c_str(), row[1].c_str(), row[2].as<int64_t>()});
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<v1::Job> JobStore::Get(const std::string& job_id) {
  RETURN_IF_ERROR(Ready());
  v1::Job job;
  RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& tx) -> absl::Status {
    pqxx::result r = tx.exec_params(JobSelect() + "WHERE j.job_id = $1", job_id);
    if (r.empty()) return JobNotFound(job_id);
    job = JobFromRow(r[0]);
    AddRanges(tx, {&job});
    return absl::OkStatus();
  }));
  return job;
}

absl::StatusOr<v1::ListJobsResponse> JobStore::List(const std::string& project, v1::JobState state,
                                                    int page_size, const std::string& page_token) {
  RETURN_IF_ERROR(Ready());
  int64_t below = INT64_MAX;
  if (!page_token.empty() && !absl::SimpleAtoi(page_token, &below)) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_token: ", page_token, " is not a token ListJobs gave"));
  }
  if (page_size < 0 || page_size > 1000) {
    return absl::InvalidArgumentError("page_size: must be between 0 and 1000");
  }
  if (page_size == 0) page_size = 100;
  v1::ListJobsResponse out;
  RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& tx) -> absl::Status {
    out.Clear();
    // One more than a page: whether there is a next one.
    pqxx::result r = tx.exec_params(
        JobSelect() +
            "WHERE j.seq < $1 AND ($2 = '' OR j.project = $2) AND ($3 = 0 OR j.state = $3) "
            "ORDER BY j.seq DESC LIMIT $4",
        below, project, static_cast<int>(state), page_size + 1);
    std::vector<v1::Job*> jobs;
    for (int i = 0; i < static_cast<int>(r.size()) && i < page_size; ++i) {
      *out.add_jobs() = JobFromRow(r[i]);
      jobs.push_back(out.mutable_jobs(i));
    }
    if (static_cast<int>(r.size()) > page_size) {
      out.set_next_page_token(r[page_size - 1][9].c_str());
    }
    AddRanges(tx, jobs);
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<v1::Job> JobStore::Cancel(const std::string& job_id) {
  RETURN_IF_ERROR(Ready());
  RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& tx) -> absl::Status {
    ASSIGN_OR_RETURN(int state, LockJob(tx, job_id));
    if (state == v1::CANCELLED) return absl::OkStatus();
    if (Final(static_cast<v1::JobState>(state))) {
      return absl::FailedPreconditionError(
          absl::StrCat("job ", job_id, " already ended: ", v1::JobState_Name(state)));
    }
    // Every task done: its intervals are being recorded; cancelling now would leave the
    // registry saying it was materialized while the job says it was not.
    if (tx.exec_params("SELECT NOT EXISTS (SELECT 1 FROM jobs.tasks WHERE job_id = $1 AND "
                       "state <> 2)",
                       job_id)[0][0]
            .as<bool>()) {
      return absl::FailedPreconditionError(
          absl::StrCat("job ", job_id, " has finished every task: it is completing"));
    }
    tx.exec_params(
        "UPDATE jobs.jobs SET state = 5, finished_time = clock_timestamp() WHERE job_id = $1",
        job_id);
    tx.exec_params("UPDATE jobs.tasks SET state = 4 WHERE job_id = $1 AND state = 0", job_id);
    return absl::OkStatus();
  }));
  return Get(job_id);
}

absl::StatusOr<TaskStart> JobStore::StartTask(const std::string& job_id, int index,
                                              const std::string& worker, int* attempt) {
  RETURN_IF_ERROR(Ready());
  TaskStart out = TaskStart::kSkip;
  RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& tx) -> absl::Status {
    ASSIGN_OR_RETURN(int job_state, LockJob(tx, job_id));
    pqxx::result task = tx.exec_params(
        "SELECT state FROM jobs.tasks WHERE job_id = $1 AND task_index = $2", job_id, index);
    if (task.empty()) {
      return absl::NotFoundError(absl::StrCat("job ", job_id, " has no task ", index));
    }
    const int task_state = task[0][0].as<int>();
    if (task_state == kSucceeded) {
      out = TaskStart::kDone;
      return absl::OkStatus();
    }
    if (Final(static_cast<v1::JobState>(job_state)) || task_state == kFailed ||
        task_state == kSkipped) {
      tx.exec_params(
          "UPDATE jobs.tasks SET state = 4 WHERE job_id = $1 AND task_index = $2 AND state IN "
          "(0, 1)",
          job_id, index);
      out = TaskStart::kSkip;
      return absl::OkStatus();
    }
    // RUNNING already: its worker died (or its acknowledgement was lost); this one takes over.
    pqxx::result run = tx.exec_params(
        "UPDATE jobs.tasks SET state = 1, attempts = attempts + 1, worker = $3, "
        "updated_time = clock_timestamp() WHERE job_id = $1 AND task_index = $2 "
        "RETURNING attempts",
        job_id, index, worker);
    if (attempt != nullptr) *attempt = run[0][0].as<int>();
    tx.exec_params(
        "UPDATE jobs.jobs SET state = 2, started_time = coalesce(started_time, "
        "clock_timestamp()) WHERE job_id = $1 AND state = 1",
        job_id);
    out = TaskStart::kRun;
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<bool> JobStore::Progress(const std::string& job_id, int index, int attempt,
                                        int64_t rows_read, int64_t rows_written) {
  RETURN_IF_ERROR(Ready());
  bool go_on = false;
  RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& tx) -> absl::Status {
    pqxx::result r = tx.exec_params(
        "UPDATE jobs.tasks t SET rows_read = $4, rows_written = $5, "
        "updated_time = clock_timestamp() FROM jobs.jobs j "
        "WHERE t.job_id = $1 AND t.task_index = $2 AND t.state = 1 AND t.attempts = $3 "
        "AND j.job_id = t.job_id RETURNING j.state",
        job_id, index, attempt, rows_read, rows_written);
    go_on = !r.empty() && !Final(static_cast<v1::JobState>(r[0][0].as<int>()));
    return absl::OkStatus();
  }));
  return go_on;
}

absl::StatusOr<bool> JobStore::FinishTask(const std::string& job_id, int index, int attempt,
                                          int64_t rows_read, int64_t rows_written) {
  RETURN_IF_ERROR(Ready());
  bool recorded = false;
  RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& tx) {
    recorded = !tx.exec_params(
                      "UPDATE jobs.tasks SET state = 2, rows_read = $4, rows_written = $5, "
                      "error = '', updated_time = clock_timestamp() WHERE job_id = $1 AND "
                      "task_index = $2 AND state = 1 AND attempts = $3 RETURNING 1",
                      job_id, index, attempt, rows_read, rows_written)
                    .empty();
    return absl::OkStatus();
  }));
  return recorded;
}

absl::Status JobStore::SkipTask(const std::string& job_id, int index, int attempt) {
  RETURN_IF_ERROR(Ready());
  return pool_->Transact([&](pqxx::work& tx) {
    tx.exec_params(
        "UPDATE jobs.tasks t SET state = 4, updated_time = clock_timestamp() FROM jobs.jobs j "
        "WHERE t.job_id = $1 AND t.task_index = $2 AND t.state = 1 AND t.attempts = $3 "
        "AND j.job_id = t.job_id AND j.state IN (3, 4, 5)",
        job_id, index, attempt);
    return absl::OkStatus();
  });
}

absl::Status JobStore::FailTask(const std::string& job_id, int index, int attempt,
                                const std::string& error, bool final) {
  RETURN_IF_ERROR(Ready());
  return pool_->Transact([&](pqxx::work& tx) -> absl::Status {
    ASSIGN_OR_RETURN(int job_state, LockJob(tx, job_id));
    pqxx::result task = tx.exec_params(
        "UPDATE jobs.tasks SET state = $3, error = $4, updated_time = clock_timestamp() "
        "WHERE job_id = $1 AND task_index = $2 AND state = 1 AND attempts = $5 "
        "RETURNING feature_view, shard, shard_count, attempts",
        job_id, index, static_cast<int>(final ? kFailed : kPending), error, attempt);
    if (!final || task.empty() || Final(static_cast<v1::JobState>(job_state))) {
      return absl::OkStatus();
    }
    tx.exec_params(
        "UPDATE jobs.jobs SET state = 4, finished_time = clock_timestamp(), error = $2 "
        "WHERE job_id = $1",
        job_id,
        absl::StrCat("task ", index, " (feature view ", task[0][0].c_str(), ", shard ",
                     task[0][1].as<int>() + 1, " of ", task[0][2].as<int>(), ") failed after ",
                     task[0][3].as<int>(), " attempt(s): ", error));
    // The rest is not to run.
    tx.exec_params("UPDATE jobs.tasks SET state = 4 WHERE job_id = $1 AND state = 0", job_id);
    return absl::OkStatus();
  });
}

absl::StatusOr<int> JobStore::Attempts(const std::string& job_id, int index) {
  RETURN_IF_ERROR(Ready());
  int attempts = 0;
  RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& tx) -> absl::Status {
    pqxx::result r = tx.exec_params(
        "SELECT attempts FROM jobs.tasks WHERE job_id = $1 AND task_index = $2", job_id, index);
    if (r.empty()) return absl::NotFoundError(absl::StrCat("job ", job_id, " has no task ", index));
    attempts = r[0][0].as<int>();
    return absl::OkStatus();
  }));
  return attempts;
}

absl::StatusOr<std::optional<std::vector<JobPlan::Range>>> JobStore::Completable(
    const std::string& job_id) {
  RETURN_IF_ERROR(Ready());
  std::optional<std::vector<JobPlan::Range>> out;
  RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& tx) -> absl::Status {
    out.reset();
    pqxx::result r = tx.exec_params(
        "SELECT j.state = 2 AND NOT EXISTS (SELECT 1 FROM jobs.tasks t WHERE t.job_id = "
        "j.job_id AND t.state <> 2) FROM jobs.jobs j WHERE j.job_id = $1",
        job_id);
    if (r.empty()) return JobNotFound(job_id);
    if (!r[0][0].as<bool>()) return absl::OkStatus();
    out.emplace();
    for (const auto& row :
         tx.exec_params("SELECT feature_view, start_us, end_us FROM jobs.ranges WHERE job_id = "
                        "$1 ORDER BY feature_view",
                        job_id)) {
      out->push_back(
          {row[0].c_str(), FromMicros(row[1].as<int64_t>()), FromMicros(row[2].as<int64_t>())});
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::Status JobStore::Succeed(const std::string& job_id) {
  RETURN_IF_ERROR(Ready());
  return pool_->Transact([&](pqxx::work& tx) {
    tx.exec_params(
        "UPDATE jobs.jobs j SET state = 3, finished_time = clock_timestamp() "
        "WHERE job_id = $1 AND state = 2 AND NOT EXISTS (SELECT 1 FROM jobs.tasks t WHERE "
        "t.job_id = j.job_id AND t.state <> 2)",
        job_id);
    return absl::OkStatus();
  });
}

}  // namespace granary::materializer
