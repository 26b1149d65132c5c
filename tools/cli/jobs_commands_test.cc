#include "tools/cli/jobs_commands.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "libs/base/proto_time.h"

namespace granary::cli {
namespace {

namespace v1 = materialization::v1;
using ::testing::HasSubstr;
using ::testing::Not;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

v1::Job Running() {
  v1::Job job;
  job.set_job_id("j1");
  job.set_state(v1::RUNNING);
  job.set_tasks_total(8);
  job.set_tasks_succeeded(2);
  job.set_rows_read(4560000);
  job.set_rows_written(1234567);
  job.set_rows_per_second(152000.7);
  *job.mutable_started_time() = base::ToProtoTime(kNow - absl::Seconds(30));
  return job;
}

TEST(ProgressLineTest, TasksRowsRateAndAnEtaFromTheTasksDone) {
  // 2 of 8 tasks in 30 s: 6 more take 90 s.
  EXPECT_EQ(ProgressLine(Running(), kNow),
            "[#####...............] 2/8 tasks  4,560,000 rows read (152,000/s)  1,234,567 written  "
            "ETA 90s");
  v1::Job none = Running();
  none.set_tasks_succeeded(0);
  EXPECT_THAT(ProgressLine(none, kNow), Not(HasSubstr("ETA")));
  v1::Job retried = Running();
  retried.set_task_retries(3);
  retried.set_last_task_error("redis away");
  EXPECT_THAT(ProgressLine(retried, kNow), HasSubstr("3 retries (redis away)"));
}

TEST(JobSummaryTest, StateCountsTimeRateAndError) {
  v1::Job job = Running();
  job.set_state(v1::FAILED);
  job.set_rows_read(2000000);
  *job.mutable_finished_time() = base::ToProtoTime(kNow);
  job.set_error("task 3 failed after 10 attempt(s): redis away");
  EXPECT_EQ(JobSummary(job),
            "job j1 FAILED: 2/8 tasks, 2,000,000 rows read, 1,234,567 written in 30s (152,000 "
            "rows read/s)\n  error: task 3 failed after 10 attempt(s): redis away");
}

}  // namespace
}  // namespace granary::cli
