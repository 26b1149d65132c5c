// Jobs and tasks in a real PostgreSQL: a job's life from creation to its end, its counts
// summed from its tasks, one running job per view, cancellation, failure, and pages.
#include "services/materializer/job_store.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "libs/base/proto_time.h"
#include "libs/testing/postgres_server.h"
#include "libs/testing/status_matchers.h"

namespace granary::materializer {
namespace {

namespace v1 = materialization::v1;
using ::granary::testing::IsOkAndHolds;
using ::granary::testing::StatusIs;
using ::testing::HasSubstr;

absl::Time At(int64_t seconds) { return absl::FromUnixSeconds(seconds); }

class JobStoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto pg = testing::PostgresServer::Start();
    ASSERT_OK(pg);
    pg_ = pg->release();
    ASSERT_OK(pg_->CreateDatabase("granary"));
  }
  static void TearDownTestSuite() { delete pg_; }

  void SetUp() override {
    ASSERT_OK(pg_->Execute("DROP SCHEMA IF EXISTS jobs CASCADE", "granary"));
    pg::PgOptions options;
    options.host = "127.0.0.1";
    options.port = pg_->port();
    options.user = "postgres";
    options.database = "granary";
    options.sslmode = "disable";
    // Before its schema is migrated a store answers UNAVAILABLE, never with a missing table.
    JobStore unmigrated(std::make_shared<pg::Pool>(options));
    EXPECT_THAT(unmigrated.Get("job-1"), StatusIs(absl::StatusCode::kUnavailable));
    store_ = std::make_unique<JobStore>(std::make_shared<pg::Pool>(options));
    ASSERT_OK(store_->Migrate());
    // Idempotent: another store (another replica) migrates the same database again.
    ASSERT_OK(JobStore(std::make_shared<pg::Pool>(options)).Migrate());
  }

  // A job over `views` in [100, 200), `shards` tasks per view.
  static JobPlan Plan(std::vector<std::string> views, int shards, std::string project = "shop") {
    JobPlan plan;
    plan.project = std::move(project);
    plan.created_by = "alice";
    plan.registry_version = 4;
    for (const auto& view : views) {
      plan.ranges.push_back({view, At(100), At(200)});
      for (int s = 0; s < shards; ++s) plan.tasks.push_back({view, At(100), At(200), s, shards});
    }
    return plan;
  }

  static testing::PostgresServer* pg_;
  std::unique_ptr<JobStore> store_;
};

testing::PostgresServer* JobStoreTest::pg_ = nullptr;

TEST_F(JobStoreTest, AJobRunsFromPendingToSucceededWithCountsFromItsTasks) {
  ASSERT_OK_AND_ASSIGN(v1::Job job, store_->Create(Plan({"a", "b"}, 2), false));
  EXPECT_EQ(job.state(), v1::PENDING);
  EXPECT_EQ(job.tasks_total(), 4);
  EXPECT_EQ(job.created_by(), "alice");
  ASSERT_EQ(job.ranges_size(), 2);
  EXPECT_EQ(base::FromProtoTime(job.ranges(1).end_time()), At(200));
  ASSERT_OK_AND_ASSIGN(std::vector<TaskSpec> tasks, store_->Tasks(job.job_id()));
  ASSERT_EQ(tasks.size(), 4u);
  EXPECT_EQ(tasks[3].feature_view, "b");
  EXPECT_EQ(tasks[3].shard, 1);
  EXPECT_EQ(tasks[3].start, At(100));

  EXPECT_THAT(store_->StartTask(job.job_id(), 0, "w1"), IsOkAndHolds(TaskStart::kRun));
  ASSERT_OK_AND_ASSIGN(job, store_->Get(job.job_id()));
  EXPECT_EQ(job.state(), v1::RUNNING);
  EXPECT_EQ(job.tasks_running(), 1);
  EXPECT_TRUE(job.has_started_time());
  EXPECT_THAT(store_->Progress(job.job_id(), 0, 1, 10, 7), IsOkAndHolds(true));
  for (int i = 0; i < 4; ++i) {
    if (i > 0) {
      ASSERT_THAT(store_->StartTask(job.job_id(), i, "w1"), IsOkAndHolds(TaskStart::kRun));
    }
    ASSERT_OK_AND_ASSIGN(auto ranges, store_->Completable(job.job_id()));
    ASSERT_FALSE(ranges.has_value());
    ASSERT_THAT(store_->FinishTask(job.job_id(), i, 1, 100 + i, 50 + i), IsOkAndHolds(true));
  }
  ASSERT_OK_AND_ASSIGN(auto ranges, store_->Completable(job.job_id()));
  ASSERT_TRUE(ranges.has_value());
  ASSERT_EQ(ranges->size(), 2u);
  EXPECT_EQ((*ranges)[0].feature_view, "a");
  EXPECT_EQ((*ranges)[0].start, At(100));
  ASSERT_OK(store_->Succeed(job.job_id()));
  ASSERT_OK_AND_ASSIGN(job, store_->Get(job.job_id()));
  EXPECT_EQ(job.state(), v1::SUCCEEDED);
  EXPECT_EQ(job.tasks_succeeded(), 4);
  EXPECT_EQ(job.rows_read(), 100 + 101 + 102 + 103);
  EXPECT_EQ(job.rows_written(), 50 + 51 + 52 + 53);
  EXPECT_TRUE(job.has_finished_time());
  // A task delivered again after its job succeeded only completes (nothing to run).
  EXPECT_THAT(store_->StartTask(job.job_id(), 2, "w2"), IsOkAndHolds(TaskStart::kDone));
}

TEST_F(JobStoreTest, JobsAreCountedByState) {
  // Other tests share the database: compare with the counts before.
  ASSERT_OK_AND_ASSIGN(auto before, store_->CountByState());
  ASSERT_OK_AND_ASSIGN(v1::Job pending, store_->Create(Plan({"count_a"}, 1), false));
  ASSERT_OK_AND_ASSIGN(v1::Job cancelled, store_->Create(Plan({"count_b"}, 1), false));
  ASSERT_OK(store_->Cancel(cancelled.job_id()).status());
  ASSERT_OK_AND_ASSIGN(auto after, store_->CountByState());
  EXPECT_EQ(after[v1::PENDING], before[v1::PENDING] + 1);
  EXPECT_EQ(after[v1::CANCELLED], before[v1::CANCELLED] + 1);
  EXPECT_EQ(after[v1::FAILED], before[v1::FAILED]);
  ASSERT_OK(store_->Cancel(pending.job_id()).status());
}

TEST_F(JobStoreTest, OneRunningJobPerViewUnlessForced) {
  ASSERT_OK_AND_ASSIGN(v1::Job first, store_->Create(Plan({"a", "b"}, 1), false));
  ASSERT_OK(store_->StartTask(first.job_id(), 0, "w").status());
  EXPECT_THAT(store_->Create(Plan({"c", "b"}, 1), false).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("feature view b is being materialized by job " + first.job_id())));
  EXPECT_OK(store_->Create(Plan({"b"}, 1, "other_project"), false).status());
  EXPECT_OK(store_->Create(Plan({"c"}, 1), false).status());
  EXPECT_OK(store_->Create(Plan({"b"}, 1), true).status());
  ASSERT_OK(store_->Cancel(first.job_id()).status());
  ASSERT_OK_AND_ASSIGN(v1::ListJobsResponse running, store_->List("shop", v1::RUNNING, 0, ""));
  EXPECT_EQ(running.jobs_size(), 0);
  ASSERT_OK_AND_ASSIGN(v1::ListJobsResponse pending, store_->List("shop", v1::PENDING, 0, ""));
  ASSERT_EQ(pending.jobs_size(), 2);  // c, and the forced b
  // b is free again once the first job ended (the forced one is still pending, so force).
  EXPECT_THAT(store_->Create(Plan({"b"}, 1), false).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(JobStoreTest, CancelSkipsWhatHasNotStartedAndStopsWhatRuns) {
  ASSERT_OK_AND_ASSIGN(v1::Job job, store_->Create(Plan({"a"}, 3), false));
  ASSERT_THAT(store_->StartTask(job.job_id(), 0, "w"), IsOkAndHolds(TaskStart::kRun));
  ASSERT_THAT(store_->FinishTask(job.job_id(), 0, 1, 5, 5), IsOkAndHolds(true));
  ASSERT_THAT(store_->StartTask(job.job_id(), 1, "w"), IsOkAndHolds(TaskStart::kRun));
  ASSERT_OK_AND_ASSIGN(job, store_->Cancel(job.job_id()));
  EXPECT_EQ(job.state(), v1::CANCELLED);
  EXPECT_EQ(job.tasks_succeeded(), 1);  // how far it got
  EXPECT_EQ(job.rows_written(), 5);
  EXPECT_TRUE(job.has_finished_time());
  EXPECT_THAT(store_->Progress(job.job_id(), 1, 1, 3, 3), IsOkAndHolds(false));
  EXPECT_THAT(store_->StartTask(job.job_id(), 2, "w"), IsOkAndHolds(TaskStart::kSkip));
  EXPECT_OK(store_->Cancel(job.job_id()).status());  // again: as it is
  ASSERT_OK_AND_ASSIGN(v1::Job done, store_->Create(Plan({"z"}, 1), false));
  ASSERT_OK(store_->StartTask(done.job_id(), 0, "w").status());
  ASSERT_THAT(store_->FinishTask(done.job_id(), 0, 1, 1, 1), IsOkAndHolds(true));
  ASSERT_OK(store_->Succeed(done.job_id()));
  EXPECT_THAT(store_->Cancel(done.job_id()).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("SUCCEEDED")));
  EXPECT_THAT(store_->Cancel("no-such-job").status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no-such-job")));
}

TEST_F(JobStoreTest, ATaskFailingForGoodFailsItsJobWithTheReason) {
  ASSERT_OK_AND_ASSIGN(v1::Job job, store_->Create(Plan({"a"}, 3), false));
  ASSERT_OK(store_->StartTask(job.job_id(), 1, "w").status());
  ASSERT_OK(store_->FailTask(job.job_id(), 1, 1, "redis away", /*final=*/false));
  ASSERT_OK_AND_ASSIGN(job, store_->Get(job.job_id()));
  EXPECT_EQ(job.state(), v1::RUNNING);
  EXPECT_EQ(job.last_task_error(), "redis away");
  ASSERT_OK(store_->StartTask(job.job_id(), 1, "w").status());
  EXPECT_THAT(store_->Attempts(job.job_id(), 1), IsOkAndHolds(2));
  ASSERT_OK_AND_ASSIGN(job, store_->Get(job.job_id()));
  EXPECT_EQ(job.task_retries(), 1);
  ASSERT_OK(store_->FailTask(job.job_id(), 1, 2, "table stats is missing", /*final=*/true));
  ASSERT_OK_AND_ASSIGN(job, store_->Get(job.job_id()));
  EXPECT_EQ(job.state(), v1::FAILED);
  EXPECT_EQ(job.tasks_failed(), 1);
  EXPECT_THAT(job.error(), HasSubstr("task 1 (feature view a, shard 2 of 3) failed after 2 "
                                     "attempt(s): table stats is missing"));
  EXPECT_THAT(store_->StartTask(job.job_id(), 0, "w"), IsOkAndHolds(TaskStart::kSkip));
  ASSERT_OK_AND_ASSIGN(auto ranges, store_->Completable(job.job_id()));
  EXPECT_FALSE(ranges.has_value());
}

TEST_F(JobStoreTest, ARunAnotherWorkerTookOverChangesNothing) {
  ASSERT_OK_AND_ASSIGN(v1::Job job, store_->Create(Plan({"a"}, 2), false));
  int first = 0, second = 0;
  ASSERT_THAT(store_->StartTask(job.job_id(), 0, "w1", &first), IsOkAndHolds(TaskStart::kRun));
  // Delivered again (w1 looked dead): w2 takes it over.
  ASSERT_THAT(store_->StartTask(job.job_id(), 0, "w2", &second), IsOkAndHolds(TaskStart::kRun));
  EXPECT_EQ(first, 1);
  EXPECT_EQ(second, 2);
  EXPECT_THAT(store_->Progress(job.job_id(), 0, first, 9, 9), IsOkAndHolds(false));
  ASSERT_OK(store_->FailTask(job.job_id(), 0, first, "stale", /*final=*/true));
  EXPECT_THAT(store_->FinishTask(job.job_id(), 0, first, 9, 9), IsOkAndHolds(false));
  ASSERT_OK_AND_ASSIGN(job, store_->Get(job.job_id()));
  EXPECT_EQ(job.state(), v1::RUNNING) << "the stale run's failure failed nothing";
  EXPECT_EQ(job.rows_read(), 0);
  EXPECT_THAT(store_->FinishTask(job.job_id(), 0, second, 4, 4), IsOkAndHolds(true));
  // Succeed waits for every task; cancel refuses once they are all done.
  ASSERT_OK(store_->Succeed(job.job_id()));
  ASSERT_OK_AND_ASSIGN(job, store_->Get(job.job_id()));
  EXPECT_EQ(job.state(), v1::RUNNING);
  int other = 0;
  ASSERT_OK(store_->StartTask(job.job_id(), 1, "w2", &other).status());
  ASSERT_THAT(store_->FinishTask(job.job_id(), 1, other, 1, 1), IsOkAndHolds(true));
  EXPECT_THAT(store_->Cancel(job.job_id()).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("completing")));
  ASSERT_OK(store_->Succeed(job.job_id()));
  ASSERT_OK_AND_ASSIGN(job, store_->Get(job.job_id()));
  EXPECT_EQ(job.state(), v1::SUCCEEDED);
}

TEST_F(JobStoreTest, ARunStoppedByItsJobsEndIsSkipped) {
  ASSERT_OK_AND_ASSIGN(v1::Job job, store_->Create(Plan({"a"}, 1), false));
  int attempt = 0;
  ASSERT_OK(store_->StartTask(job.job_id(), 0, "w", &attempt).status());
  ASSERT_OK(store_->SkipTask(job.job_id(), 0, attempt));  // the job runs: nothing
  EXPECT_EQ(store_->Get(job.job_id())->tasks_running(), 1);
  ASSERT_OK(store_->Cancel(job.job_id()).status());
  ASSERT_OK(store_->SkipTask(job.job_id(), 0, attempt));
  ASSERT_OK_AND_ASSIGN(job, store_->Get(job.job_id()));
  EXPECT_EQ(job.tasks_running(), 0);
  EXPECT_EQ(job.state(), v1::CANCELLED);
}

TEST_F(JobStoreTest, ListsPageNewestFirstAndFilter) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ASSERT_OK_AND_ASSIGN(
        v1::Job job,
        store_->Create(Plan({"v" + std::to_string(i)}, 1, i % 2 == 0 ? "shop" : "other"), false));
    ids.push_back(job.job_id());
  }
  ASSERT_OK_AND_ASSIGN(v1::ListJobsResponse page,
                       store_->List("", v1::JOB_STATE_UNSPECIFIED, 2, ""));
  ASSERT_EQ(page.jobs_size(), 2);
  EXPECT_EQ(page.jobs(0).job_id(), ids[4]);
  EXPECT_EQ(page.jobs(1).job_id(), ids[3]);
  EXPECT_EQ(page.jobs(0).ranges(0).feature_view(), "v4");
  ASSERT_OK_AND_ASSIGN(page,
                       store_->List("", v1::JOB_STATE_UNSPECIFIED, 2, page.next_page_token()));
  EXPECT_EQ(page.jobs(0).job_id(), ids[2]);
  ASSERT_OK_AND_ASSIGN(page,
                       store_->List("", v1::JOB_STATE_UNSPECIFIED, 2, page.next_page_token()));
  ASSERT_EQ(page.jobs_size(), 1);
  EXPECT_EQ(page.next_page_token(), "");
  ASSERT_OK_AND_ASSIGN(page, store_->List("shop", v1::JOB_STATE_UNSPECIFIED, 0, ""));
  EXPECT_EQ(page.jobs_size(), 3);
  EXPECT_THAT(store_->List("", v1::JOB_STATE_UNSPECIFIED, 0, "x").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
  EXPECT_THAT(store_->List("", v1::JOB_STATE_UNSPECIFIED, 5000, "").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_size")));
}

TEST_F(JobStoreTest, AJobWithoutTasksSucceedsAtOnceAndUnqueuedJobsAreFound) {
  JobPlan empty;
  empty.project = "shop";
  ASSERT_OK_AND_ASSIGN(v1::Job job, store_->Create(empty, false));
  EXPECT_EQ(job.state(), v1::SUCCEEDED);
  ASSERT_OK_AND_ASSIGN(v1::Job queued, store_->Create(Plan({"a"}, 1), false));
  ASSERT_OK_AND_ASSIGN(v1::Job lost, store_->Create(Plan({"b"}, 1), false));
  ASSERT_OK(store_->MarkPublished(queued.job_id()));
  ASSERT_OK_AND_ASSIGN(auto unqueued, store_->Unpublished(absl::Now() + absl::Hours(1)));
  ASSERT_EQ(unqueued.size(), 1u);
  EXPECT_EQ(unqueued[0].job_id, lost.job_id());
  EXPECT_EQ(unqueued[0].registry_version, 4);
  ASSERT_OK_AND_ASSIGN(unqueued, store_->Unpublished(absl::Now() - absl::Hours(1)));
  EXPECT_TRUE(unqueued.empty());
}

TEST_F(JobStoreTest, OpenEndsOfTimeAreKept) {
  JobPlan plan = Plan({"a"}, 1);
  plan.ranges[0].start = absl::FromUnixSeconds(-62135596800);
  plan.tasks[0].start = absl::InfinitePast();
  ASSERT_OK_AND_ASSIGN(v1::Job job, store_->Create(plan, false));
  EXPECT_EQ(base::FromProtoTime(job.ranges(0).start_time()), absl::FromUnixSeconds(-62135596800));
  ASSERT_OK_AND_ASSIGN(std::vector<TaskSpec> tasks, store_->Tasks(job.job_id()));
  EXPECT_EQ(tasks[0].start, absl::InfinitePast());
}

}  // namespace
}  // namespace granary::materializer
