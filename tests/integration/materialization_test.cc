// Materialization jobs on the shared stack (examples/driver_stats): the online store after a
// job equals the latest row per driver in [start, end) computed here by brute force (read
// back through serving, every driver); an incremental job starts exactly where the last one
// ended; a worker killed with SIGKILL while it holds a task leaves the job to finish on the
// other with the same result, and a job whose every worker died holding tasks resumes on a new
// one; cancel, a job failing after its retries with the reason, a job queued while no worker
// ran that completes once one starts, and PostgreSQL or Redis going away mid-job.
#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "httplib.h"

#include "tests/integration/offline_stack_fixture.h"

namespace granary::integration {
namespace {

namespace v1 = materialization::v1;
using testing::Eventually;
using ::testing::HasSubstr;

using MaterializationTest = OfflineStackTest;

TEST_F(MaterializationTest, OnlineEqualsTheLatestRowPerDriverAndIncrementalGoesOnFromThere) {
  AddRows(1500, 1);
  ASSERT_OK_AND_ASSIGN(testing::TestService * m,
                       h_->stack().Spawn("materializer", {.section = kWorker}));
  const absl::Time start = t0_ + absl::Hours(2);
  const absl::Time middle = t0_ + absl::Hours(6) + absl::Microseconds(1);
  ASSERT_OK_AND_ASSIGN(v1::Job job, Materialize(*m, start, middle, 3));
  EXPECT_EQ(job.tasks_total(), 3);
  ASSERT_OK_AND_ASSIGN(job, Watch(*m, job.job_id()));
  ASSERT_EQ(job.state(), v1::SUCCEEDED) << job.error();
  const auto first = Latest(start, middle);
  EXPECT_EQ(job.rows_read(), static_cast<int64_t>(first.size()));
  EXPECT_EQ(job.rows_written(), static_cast<int64_t>(first.size()));
  ExpectOnline(first);

  // Incremental: from where the last job ended, to the end given; the registry recorded it.
  v1::MaterializeIncrementalRequest request;
  request.set_project(h_->stack().project());
  const absl::Time end = t0_ + absl::Hours(9);
  *request.mutable_end_time() = base::ToProtoTime(end);
  request.add_feature_views(kView);
  grpc::ClientContext context;
  ASSERT_TRUE(Stub(*m)->MaterializeIncremental(&context, request, &job).ok());
  ASSERT_EQ(job.ranges_size(), 1);
  EXPECT_EQ(base::FromProtoTime(job.ranges(0).start_time()), middle);
  EXPECT_EQ(job.kind(), v1::MATERIALIZE_INCREMENTAL);
  ASSERT_OK_AND_ASSIGN(job, Watch(*m, job.job_id()));
  ASSERT_EQ(job.state(), v1::SUCCEEDED) << job.error();
  EXPECT_EQ(job.rows_read(), static_cast<int64_t>(Latest(middle, end).size()));
  ExpectOnline(Latest(start, end));

  // Once more to the same end: nothing left, a job without tasks.
  grpc::ClientContext again;
  ASSERT_TRUE(Stub(*m)->MaterializeIncremental(&again, request, &job).ok());
  EXPECT_EQ(job.tasks_total(), 0);
  EXPECT_EQ(job.state(), v1::SUCCEEDED);

  // Running the first job again changes nothing: older rows never win.
  ASSERT_OK_AND_ASSIGN(job, Materialize(*m, start, middle, 2));
  ASSERT_OK_AND_ASSIGN(job, Watch(*m, job.job_id()));
  ASSERT_EQ(job.state(), v1::SUCCEEDED);
  EXPECT_EQ(job.rows_written(), 0);
  ExpectOnline(Latest(start, end));
}

// The UI's health page reads the age of each view's newest event online from a worker's
// metrics: a worker started after the rows were written learns it from its first task, even
// though that task finds nothing newer to write.
TEST_F(MaterializationTest, ARestartedWorkerKnowsTheViewsAgeFromATaskThatWroteNothingNew) {
  AddRows(50, 1);
  ASSERT_OK_AND_ASSIGN(testing::TestService * first,
                       h_->stack().Spawn("materializer", {.section = kWorker}));
  const absl::Time start = t0_;
  const absl::Time end = t0_ + absl::Hours(4);
  ASSERT_OK_AND_ASSIGN(v1::Job job, Materialize(*first, start, end, 1));
  ASSERT_OK_AND_ASSIGN(job, Watch(*first, job.job_id()));
  ASSERT_EQ(job.state(), v1::SUCCEEDED) << job.error();
  ASSERT_GT(job.rows_written(), 0);
  ASSERT_OK(first->Stop());

  ASSERT_OK_AND_ASSIGN(testing::TestService * second,
                       h_->stack().Spawn("materializer", {.section = kWorker}));
  auto age = [&]() -> std::optional<std::string> {
    httplib::Client client("127.0.0.1", second->metrics_port());
    auto page = client.Get("/metrics");
    if (!page || page->status != 200) return std::nullopt;
    for (absl::string_view line : absl::StrSplit(page->body, '\n')) {
      if (absl::StartsWith(line, "granary_materializer_newest_event_age_seconds{") &&
          absl::StrContains(line, absl::StrCat("feature_view=\"", kView, "\""))) {
        return std::string(line);
      }
    }
    return std::string();
  };
  ASSERT_EQ(age(), std::string()) << "a new worker knows no age before its first task";
  ASSERT_OK_AND_ASSIGN(job, Materialize(*second, start, end, 1));
  ASSERT_OK_AND_ASSIGN(job, Watch(*second, job.job_id()));
  ASSERT_EQ(job.state(), v1::SUCCEEDED) << job.error();
  ASSERT_EQ(job.rows_written(), 0);  // everything was online already
  std::optional<std::string> line = age();
  ASSERT_TRUE(line.has_value());
  EXPECT_THAT(*line, ::testing::Not(::testing::IsEmpty()));
}

TEST_F(MaterializationTest, AWorkerKilledWhileHoldingATaskLeavesItToTheOther) {
  AddRows(6000, 2);
  ASSERT_OK_AND_ASSIGN(testing::TestService * a,
                       h_->stack().Spawn("materializer", {.section = kWorker}));
  const absl::Time start = t0_;
  const absl::Time end = t0_ + absl::Hours(10);
  ASSERT_OK_AND_ASSIGN(testing::TestService * b,
                       h_->stack().Spawn("materializer", {.section = kWorker}));
  ASSERT_OK_AND_ASSIGN(v1::Job job, Materialize(*a, start, end, 24));
  ASSERT_EQ(job.tasks_total(), 24);
  // Caught in the act: frozen while it holds a task.
  const std::vector<std::string> taken = FreezeHoldingATask(*a, job.job_id());
  ASSERT_FALSE(taken.empty());
  ASSERT_OK(a->Kill());
  ASSERT_OK_AND_ASSIGN(job, Watch(*b, job.job_id()));
  ASSERT_EQ(job.state(), v1::SUCCEEDED) << job.error();
  EXPECT_EQ(job.tasks_succeeded(), 24);
  // The task the dead worker held ran again, on the other.
  for (const std::string& index : taken) {
    const std::string where = "task_index = " + index;
    EXPECT_THAT(TaskColumn(job.job_id(), "attempts", where), ::testing::ElementsAre("2"));
    EXPECT_THAT(TaskColumn(job.job_id(), "worker", where)[0],
                HasSubstr(absl::StrCat(":", b->pid())));
  }
  ExpectOnline(Latest(start, end));
}

TEST_F(MaterializationTest, CancelledBeforeAWorkerTookItNothingIsWritten) {
  AddRows(200, 3);
  // This one answers calls and runs no task: the job waits in GRANARY_TASKS.
  ASSERT_OK_AND_ASSIGN(testing::TestService * front,
                       h_->stack().Spawn("materializer", {.section = "task_threads: 0"}));
  ASSERT_OK_AND_ASSIGN(v1::Job job, Materialize(*front, t0_, t0_ + absl::Hours(10), 4));
  ASSERT_EQ(job.state(), v1::PENDING);
  // One running job per view: a second is refused, naming the first.
  EXPECT_THAT(Materialize(*front, t0_, t0_ + absl::Hours(1), 1).status(),
              testing::StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(job.job_id())));
  v1::CancelJobRequest cancel;
  cancel.set_job_id(job.job_id());
  grpc::ClientContext context;
  ASSERT_TRUE(Stub(*front)->CancelJob(&context, cancel, &job).ok());
  EXPECT_EQ(job.state(), v1::CANCELLED);
  ASSERT_OK_AND_ASSIGN(testing::TestService * worker,
                       h_->stack().Spawn("materializer", {.section = kWorker}));
  // The worker takes the four tasks and skips them.
  ASSERT_TRUE(Eventually(
      [&] {
        return worker->Metric(
                   "granary_materializer_batches_total{consumer=\"task-runner\",outcome="
                   "\"skipped\"}") == 4;
      },
      kWait));
  ASSERT_OK_AND_ASSIGN(job, Watch(*front, job.job_id()));
  EXPECT_EQ(job.state(), v1::CANCELLED);
  EXPECT_EQ(job.tasks_succeeded(), 0);
  ExpectOnline({});
}

TEST_F(MaterializationTest, AJobQueuedWhileNoWorkerRanCompletesWhenOneStarts) {
  AddRows(300, 4);
  ASSERT_OK_AND_ASSIGN(testing::TestService * front,
                       h_->stack().Spawn("materializer", {.section = "task_threads: 0"}));
  ASSERT_OK_AND_ASSIGN(v1::Job job, Materialize(*front, t0_, t0_ + absl::Hours(10), 4));
  ASSERT_EQ(h_->StreamMessages("GRANARY_TASKS"), 4);
  ASSERT_OK_AND_ASSIGN(testing::TestService * worker,
                       h_->stack().Spawn("materializer", {.section = kWorker}));
  ASSERT_OK_AND_ASSIGN(job, Watch(*worker, job.job_id()));
  ASSERT_EQ(job.state(), v1::SUCCEEDED) << job.error();
  EXPECT_EQ(h_->StreamMessages("GRANARY_TASKS"), 0);
  ExpectOnline(Latest(t0_, t0_ + absl::Hours(10)));
}

TEST_F(MaterializationTest, EveryWorkerKilledWhileHoldingTasksTheJobResumesOnANewOne) {
  AddRows(6000, 10);
  // This one answers calls and runs no task, so the pool of workers can vanish entirely.
  ASSERT_OK_AND_ASSIGN(testing::TestService * front,
                       h_->stack().Spawn("materializer", {.section = "task_threads: 0"}));
  ASSERT_OK_AND_ASSIGN(testing::TestService * a,
                       h_->stack().Spawn("materializer", {.section = kWorker}));
  ASSERT_OK_AND_ASSIGN(testing::TestService * b,
                       h_->stack().Spawn("materializer", {.section = kWorker}));
  const absl::Time start = t0_, end = t0_ + absl::Hours(10);
  ASSERT_OK_AND_ASSIGN(v1::Job job, Materialize(*front, start, end, 24));
  // Both caught holding tasks, then killed: the job has no worker left and tasks in flight.
  std::vector<std::string> taken = FreezeHoldingATask(*a, job.job_id());
  ASSERT_FALSE(taken.empty());
  const std::vector<std::string> taken_by_b = FreezeHoldingATask(*b, job.job_id());
  ASSERT_FALSE(taken_by_b.empty());
  taken.insert(taken.end(), taken_by_b.begin(), taken_by_b.end());
  ASSERT_OK(a->Kill());
  ASSERT_OK(b->Kill());
  v1::GetJobRequest get;
  get.set_job_id(job.job_id());
  grpc::ClientContext context;
  ASSERT_TRUE(Stub(*front)->GetJob(&context, get, &job).ok());
  ASSERT_EQ(job.state(), v1::RUNNING);
  ASSERT_LT(job.tasks_succeeded(), 24);
  for (const std::string& index : taken) {
    EXPECT_THAT(TaskColumn(job.job_id(), "state", "task_index = " + index),
                ::testing::ElementsAre("1"))
        << "task " << index << " is still marked running under its dead worker";
  }
  // A worker comes back: it takes the queued tasks and, once they are redelivered, the dead
  // workers' ones.
  ASSERT_OK_AND_ASSIGN(testing::TestService * c,
                       h_->stack().Spawn("materializer", {.section = kWorker}));
  ASSERT_OK_AND_ASSIGN(job, Watch(*front, job.job_id()));
  ASSERT_EQ(job.state(), v1::SUCCEEDED) << job.error();
  EXPECT_EQ(job.tasks_succeeded(), 24);
  // The tasks the dead workers held ran again and were finished by the new one (a task `a`
  // held may also have gone to `b` while `a` was frozen: at least one more attempt each).
  for (const std::string& index : taken) {
    const std::string where = "task_index = " + index;
    int attempts = 0;
    ASSERT_TRUE(absl::SimpleAtoi(TaskColumn(job.job_id(), "attempts", where)[0], &attempts));
    EXPECT_GE(attempts, 2) << "task " << index;
    EXPECT_THAT(TaskColumn(job.job_id(), "worker", where)[0],
                HasSubstr(absl::StrCat(":", c->pid())));
  }
  ExpectOnline(Latest(start, end));
}

TEST_F(MaterializationTest, PostgresAwayMidTaskIsRetriedAndTheJobCompletesWhenItReturns) {
  AddRows(3000, 11);
  ASSERT_OK_AND_ASSIGN(testing::TestService * m,
                       h_->stack().Spawn("materializer", {.section = absl::StrCat(
                                                              kWorker, ", task_attempts: 1000")}));
  const absl::Time start = t0_, end = t0_ + absl::Hours(10);
  ASSERT_OK_AND_ASSIGN(v1::Job job, Materialize(*m, start, end, 8));
  // The outage hits a task in flight: the worker is frozen holding it, PostgreSQL goes away,
  // and the worker goes on.
  ASSERT_FALSE(FreezeHoldingATask(*m, job.job_id()).empty());
  const std::string retried =
      "granary_materializer_batches_total{consumer=\"task-runner\",outcome=\"retried\"}";
  const double retried_before = m->Metric(retried);
  ASSERT_OK(h_->stack().postgres().Stop());
  ASSERT_EQ(kill(m->pid(), SIGCONT), 0);
  ASSERT_TRUE(Eventually([&] { return m->Metric(retried) >= retried_before + 2; }, kWait));
  ASSERT_OK(h_->stack().postgres().Restart());
  ASSERT_OK_AND_ASSIGN(job, Watch(*m, job.job_id()));
  ASSERT_EQ(job.state(), v1::SUCCEEDED) << job.error();
  EXPECT_EQ(job.tasks_succeeded(), 8);
  EXPECT_GT(job.task_retries(), 0);
  ExpectOnline(Latest(start, end));
}

TEST_F(MaterializationTest, RedisAwayFailsTheJobAfterItsRetriesWithTheReason) {
  AddRows(100, 5);
  ASSERT_OK_AND_ASSIGN(
      testing::TestService * m,
      h_->stack().Spawn("materializer", {.section = absl::StrCat(kWorker,
                                                                 ", task_attempts: 3, "
                                                                 "write_timeout: 200ms")}));
  ASSERT_OK(h_->stack().redis().Stop());
  ASSERT_OK_AND_ASSIGN(v1::Job job, Materialize(*m, t0_, t0_ + absl::Hours(10), 1));
  ASSERT_OK_AND_ASSIGN(job, Watch(*m, job.job_id()));
  EXPECT_EQ(job.state(), v1::FAILED);
  EXPECT_THAT(job.error(), HasSubstr("failed after 3 attempt(s)"));
  EXPECT_EQ(job.tasks_failed(), 1);
  EXPECT_EQ(job.task_retries(), 2);
}

TEST_F(MaterializationTest, RedisAwayMidJobIsRetriedAndTheJobCompletesWhenItReturns) {
  AddRows(400, 8);
  ASSERT_OK_AND_ASSIGN(
      testing::TestService * m,
      h_->stack().Spawn("materializer", {.section = absl::StrCat(kWorker,
                                                                 ", task_attempts: 1000, "
                                                                 "write_timeout: 200ms")}));
  ASSERT_OK(h_->stack().redis().Stop());
  ASSERT_OK_AND_ASSIGN(v1::Job job, Materialize(*m, t0_, t0_ + absl::Hours(10), 2));
  // The outage hit the job's tasks: they failed and are being retried.
  auto stub = Stub(*m);
  ASSERT_TRUE(Eventually(
      [&] {
        v1::GetJobRequest get;
        get.set_job_id(job.job_id());
        grpc::ClientContext context;
        return stub->GetJob(&context, get, &job).ok() && job.task_retries() >= 2;
      },
      kWait));
  EXPECT_EQ(job.state(), v1::RUNNING);
  EXPECT_FALSE(job.last_task_error().empty());
  ASSERT_OK(h_->stack().redis().Restart());
  ASSERT_OK_AND_ASSIGN(job, Watch(*m, job.job_id()));
  ASSERT_EQ(job.state(), v1::SUCCEEDED) << job.error();
  ExpectOnline(Latest(t0_, t0_ + absl::Hours(10)));
}

TEST_F(MaterializationTest, CancelledWhileATaskRunsTheRestIsSkipped) {
  AddRows(3000, 9);
  // Batches of 1 row (500 round trips per task): tasks long enough to be caught running by one
  // worker alone, whom no other worker's tasks slow down (with batches of 5, a full suite on a
  // loaded machine saw all six end between two looks at the job store).
  ASSERT_OK_AND_ASSIGN(
      testing::TestService * a,
      h_->stack().Spawn("materializer", {.section = "task_batch_rows: 1, task_min_backoff: 10ms, "
                                                    "task_max_backoff: 200ms, stall_after: 60s"}));
  ASSERT_OK_AND_ASSIGN(v1::Job job, Materialize(*a, t0_, t0_ + absl::Hours(10), 6));
  ASSERT_FALSE(FreezeHoldingATask(*a, job.job_id()).empty());
  v1::CancelJobRequest cancel;
  cancel.set_job_id(job.job_id());
  grpc::ClientContext context;
  // The frozen worker cannot answer: the job store does, through a second replica.
  ASSERT_OK_AND_ASSIGN(testing::TestService * front,
                       h_->stack().Spawn("materializer", {.section = "task_threads: 0"}));
  ASSERT_TRUE(Stub(*front)->CancelJob(&context, cancel, &job).ok());
  ASSERT_EQ(job.state(), v1::CANCELLED);
  const int succeeded_at_cancel = job.tasks_succeeded();
  ASSERT_EQ(kill(a->pid(), SIGCONT), 0);
  // The running task stops at its next report (or ends first); nothing else runs.
  ASSERT_TRUE(Eventually(
      [&] { return TaskColumn(job.job_id(), "task_index", "state IN (0, 1)").empty(); }, kWait));
  ASSERT_OK_AND_ASSIGN(job, Watch(*front, job.job_id()));
  EXPECT_EQ(job.state(), v1::CANCELLED);
  EXPECT_LE(job.tasks_succeeded(), succeeded_at_cancel + 1);
  EXPECT_GE(static_cast<int>(TaskColumn(job.job_id(), "task_index", "state = 4").size()),
            6 - succeeded_at_cancel - 1);
}

TEST_F(MaterializationTest, BadRequestsAreRefusedNamingWhat) {
  ASSERT_OK_AND_ASSIGN(testing::TestService * m,
                       h_->stack().Spawn("materializer", {.section = "task_threads: 0"}));
  EXPECT_THAT(Materialize(*m, t0_, t0_, 1).status(),
              testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("end_time")));
  v1::MaterializeRequest request;
  request.set_project("no_such_project");
  *request.mutable_start_time() = base::ToProtoTime(t0_);
  *request.mutable_end_time() = base::ToProtoTime(t0_ + absl::Hours(1));
  v1::Job job;
  grpc::ClientContext c1;
  grpc::Status status = Stub(*m)->Materialize(&c1, request, &job);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(status.error_message(), HasSubstr("no_such_project"));
  request.set_project(h_->stack().project());
  request.add_feature_views("nope");
  grpc::ClientContext c2;
  status = Stub(*m)->Materialize(&c2, request, &job);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(status.error_message(), HasSubstr("nope"));
  // The view's table gone: NOT_FOUND naming it, and no job.
  ASSERT_OK(
      h_->stack().postgres().Execute("ALTER TABLE driver_stats RENAME TO elsewhere", "granary"));
  EXPECT_THAT(Materialize(*m, t0_, t0_ + absl::Hours(1), 1).status(),
              testing::StatusIs(absl::StatusCode::kNotFound, HasSubstr("driver_stats")));
  v1::GetJobRequest get;
  get.set_job_id("no-such-job");
  grpc::ClientContext c3;
  status = Stub(*m)->GetJob(&c3, get, &job);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
}

// Entity rows in [t0 - 1h, t0 + 12h), drivers with and without rows: every row of the training
// set equals the brute-force point-in-time answer, in the entity rows' order, extra columns
// passed through; inline and as a query give the same.
}  // namespace
}  // namespace granary::integration
