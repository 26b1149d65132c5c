// Materialization jobs on the shared stack (examples/driver_stats): the online store after a
// job equals the latest row per driver in [start, end) computed here by brute force (read
// back through serving, every driver); an incremental job starts exactly where the last one
// ended; a worker killed with SIGKILL while it holds a task leaves the job to finish on the
// other with the same result; cancel, a job failing after its retries with the reason, and a
// job queued while no worker ran that completes once one starts.
#include <signal.h>

#include <map>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "granary/materialization/v1/materialization.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "pqxx/pqxx"

#include "libs/base/grpc_status.h"
#include "libs/base/proto_time.h"
#include "libs/testing/eventually.h"
#include "libs/testing/status_matchers.h"
#include "tests/integration/ingestion_harness.h"

namespace granary::integration {
namespace {

namespace v1 = materialization::v1;
using serving::v1::FieldStatus;
using testing::Eventually;
using ::testing::HasSubstr;

constexpr absl::Duration kWait = absl::Seconds(120);
// What every materializer of these tests runs with: small batches (many per task), quick
// retries.
constexpr char kWorker[] =
    "task_batch_rows: 25, task_min_backoff: 10ms, task_max_backoff: 200ms, stall_after: 60s";

struct OfflineRow {
  int64_t driver;
  absl::Time event;
  std::optional<absl::Time> created;
  int64_t trips;  // unique per row: which row was served shows
};

class MaterializationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HarnessOptions options;
    options.materializers = 0;
    options.stack.jetstream = "{ack_wait: 2s}";  // a dead worker's task runs elsewhere soon
    ASSERT_OK_AND_ASSIGN(h_, IngestionHarness::Start(options));
    t0_ = h_->Now() - absl::Hours(12);
  }

  // Random rows over [t0, t0 + 10h) for `drivers` drivers: ties on event time told apart by
  // created time, rows without a created time, drivers without rows.
  void AddRows(int drivers, uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<std::string> values;
    for (int64_t d = 1; d <= drivers; ++d) {
      const int n = static_cast<int>(rng() % 5);  // 0..4 rows
      for (int i = 0; i < n; ++i) {
        OfflineRow row;
        row.driver = d;
        row.event = t0_ + absl::Seconds(static_cast<int64_t>(rng() % (10 * 3600)));
        if (rng() % 4 != 0) row.created = row.event + absl::Seconds(rng() % 1000);
        // Every third row is a late correction of the previous one: the same event time, a
        // newer created time (rows equal in both are not ordered by anything).
        if (i > 0 && rng() % 3 == 0) {
          const OfflineRow& previous = rows_.back();
          row.event = previous.event;
          row.created = previous.created.value_or(previous.event) + absl::Seconds(1 + rng() % 100);
        }
        row.trips = static_cast<int64_t>(rows_.size()) + 1;
        rows_.push_back(row);
        values.push_back(absl::StrCat(
            "(", row.driver, ", 'epoch'::timestamptz + ", absl::ToUnixMicros(row.event),
            " * interval '1 microsecond', ",
            row.created ? absl::StrCat("'epoch'::timestamptz + ", absl::ToUnixMicros(*row.created),
                                       " * interval '1 microsecond'")
                        : "NULL",
            ", ", row.trips / 1000.0, ", ", row.trips / 1000.0, ", ", row.trips, ")"));
      }
    }
    ASSERT_OK(h_->stack().postgres().Execute(
        absl::StrCat("INSERT INTO driver_stats (driver_id, event_timestamp, created, conv_rate, "
                     "acc_rate, avg_daily_trips) VALUES ",
                     absl::StrJoin(values, ",")),
        "granary"));
    drivers_ = drivers;
  }

  // The latest row per driver with an event time in [start, end): newest event time, then
  // newest created time (none counts as oldest).
  std::map<int64_t, OfflineRow> Latest(absl::Time start, absl::Time end) const {
    std::map<int64_t, OfflineRow> out;
    for (const OfflineRow& row : rows_) {
      if (row.event < start || row.event >= end) continue;
      auto it = out.find(row.driver);
      const absl::Time created = row.created.value_or(absl::InfinitePast());
      if (it == out.end() || row.event > it->second.event ||
          (row.event == it->second.event &&
           created > it->second.created.value_or(absl::InfinitePast()))) {
        out[row.driver] = row;
      }
    }
    return out;
  }

  // Every driver as served equals `expected` (NOT_FOUND for drivers not in it).
  void ExpectOnline(const std::map<int64_t, OfflineRow>& expected) {
    std::vector<int64_t> drivers;
    for (int64_t d = 1; d <= drivers_; ++d) drivers.push_back(d);
    ASSERT_OK_AND_ASSIGN(auto served, h_->ReadAll(drivers));
    int mismatches = 0;
    for (int64_t d = 1; d <= drivers_; ++d) {
      const Served& s = served[d];
      auto it = expected.find(d);
      const bool ok = it == expected.end()
                          ? s.status == serving::v1::NOT_FOUND
                          : s.status == serving::v1::PRESENT && s.trips == it->second.trips &&
                                s.event == it->second.event;
      if (!ok && ++mismatches <= 5) {
        ADD_FAILURE() << "driver " << d << ": served status " << s.status << " trips " << s.trips
                      << ", expected "
                      << (it == expected.end() ? std::string("NOT_FOUND")
                                               : absl::StrCat("trips ", it->second.trips));
      }
    }
    EXPECT_EQ(mismatches, 0);
  }

  std::unique_ptr<v1::MaterializationService::Stub> Stub(testing::TestService& m) {
    return v1::MaterializationService::NewStub(m.channel());
  }

  absl::StatusOr<v1::Job> Materialize(testing::TestService& m, absl::Time start, absl::Time end,
                                      int shards) {
    v1::MaterializeRequest request;
    request.set_project(h_->stack().project());
    *request.mutable_start_time() = base::ToProtoTime(start);
    *request.mutable_end_time() = base::ToProtoTime(end);
    request.set_shards(shards);
    v1::Job job;
    grpc::ClientContext context;
    grpc::Status status = Stub(m)->Materialize(&context, request, &job);
    if (!status.ok()) return base::FromGrpcStatus(status);
    return job;
  }

  // Follows the job with WatchJob until it ends; the last message.
  absl::StatusOr<v1::Job> Watch(testing::TestService& m, const std::string& job_id) {
    v1::WatchJobRequest request;
    request.set_job_id(job_id);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + kWait));
    auto reader = Stub(m)->WatchJob(&context, request);
    v1::Job job;
    int messages = 0;
    while (reader->Read(&job)) ++messages;
    grpc::Status status = reader->Finish();
    if (!status.ok()) return base::FromGrpcStatus(status);
    if (messages == 0) return absl::InternalError("WatchJob sent nothing");
    return job;
  }

  // A column of the job's tasks.
  std::vector<std::string> TaskColumn(const std::string& job_id, const std::string& column,
                                      const std::string& where = "true") {
    pqxx::connection conn(h_->stack().offline_conninfo());
    pqxx::nontransaction tx(conn);
    std::vector<std::string> out;
    for (const auto& row :
         tx.exec_params(absl::StrCat("SELECT ", column, " FROM jobs.tasks WHERE job_id = $1 AND ",
                                     where, " ORDER BY task_index"),
                        job_id)) {
      out.push_back(row[0].is_null() ? "" : row[0].c_str());
    }
    return out;
  }

  // The point-in-time answer for one entity row: the driver's newest row at or before `at`
  // and, the view's ttl being one day, no older than `at` - 1 day; ties on created time.
  std::optional<OfflineRow> AsOf(int64_t driver, absl::Time at) const {
    std::optional<OfflineRow> best;
    for (const OfflineRow& row : rows_) {
      if (row.driver != driver || row.event > at || row.event < at - absl::Hours(24)) continue;
      const absl::Time created = row.created.value_or(absl::InfinitePast());
      if (!best || row.event > best->event ||
          (row.event == best->event && created > best->created.value_or(absl::InfinitePast()))) {
        best = row;
      }
    }
    return best;
  }

  // GetHistoricalFeatures, every part.
  absl::StatusOr<std::vector<v1::GetHistoricalFeaturesResponse>> Historical(
      testing::TestService& m, const v1::GetHistoricalFeaturesRequest& request) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + kWait));
    auto reader = Stub(m)->GetHistoricalFeatures(&context, request);
    std::vector<v1::GetHistoricalFeaturesResponse> parts;
    v1::GetHistoricalFeaturesResponse part;
    while (reader->Read(&part)) parts.push_back(part);
    grpc::Status status = reader->Finish();
    if (!status.ok()) return base::FromGrpcStatus(status);
    return parts;
  }

  std::unique_ptr<IngestionHarness> h_;
  absl::Time t0_;
  std::vector<OfflineRow> rows_;
  int drivers_ = 0;
};

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
  // Caught in the act: frozen while the job store says it runs a task (it records that a task
  // succeeded before acknowledging it, so a task RUNNING under a frozen worker is held).
  const std::string held = absl::StrCat("state = 1 AND worker LIKE '%:", a->pid(), "'");
  bool holding = false;
  for (int i = 0; i < 2000 && !holding; ++i) {
    ASSERT_EQ(kill(a->pid(), SIGSTOP), 0);
    holding = !TaskColumn(job.job_id(), "task_index", held).empty();
    if (!holding) {
      ASSERT_EQ(kill(a->pid(), SIGCONT), 0);
    }
  }
  ASSERT_TRUE(holding) << "the worker was never seen holding a task";
  const std::vector<std::string> taken = TaskColumn(job.job_id(), "task_index", held);
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
  ASSERT_OK_AND_ASSIGN(testing::TestService * a,
                       h_->stack().Spawn("materializer", {.section = kWorker}));
  ASSERT_OK_AND_ASSIGN(v1::Job job, Materialize(*a, t0_, t0_ + absl::Hours(10), 6));
  const std::string held = absl::StrCat("state = 1 AND worker LIKE '%:", a->pid(), "'");
  bool holding = false;
  for (int i = 0; i < 2000 && !holding; ++i) {
    ASSERT_EQ(kill(a->pid(), SIGSTOP), 0);
    holding = !TaskColumn(job.job_id(), "task_index", held).empty();
    if (!holding) {
      ASSERT_EQ(kill(a->pid(), SIGCONT), 0);
    }
  }
  ASSERT_TRUE(holding) << "the worker was never seen holding a task";
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
TEST_F(MaterializationTest, HistoricalFeaturesAreThePointInTimeJoinRowForRow) {
  AddRows(300, 6);
  ASSERT_OK_AND_ASSIGN(testing::TestService * m,
                       h_->stack().Spawn("materializer", {.section = "task_threads: 0"}));
  std::mt19937 rng(7);
  struct EntityRow {
    int64_t driver;
    absl::Time at;
    int64_t label;
  };
  std::vector<EntityRow> entities;
  std::vector<std::string> sql_rows;
  for (int i = 0; i < 2500; ++i) {
    EntityRow e{static_cast<int64_t>(1 + rng() % 320), t0_ - absl::Hours(1), i};
    // Some exactly on a row's event time, or exactly a day after one (the ttl's edge).
    if (i % 5 == 0 && !rows_.empty()) {
      const OfflineRow& row = rows_[rng() % rows_.size()];
      e.driver = row.driver;
      e.at = row.event + (i % 10 == 0 ? absl::Hours(24) : absl::ZeroDuration());
    } else {
      e.at += absl::Seconds(static_cast<int64_t>(rng() % (13 * 3600)));
    }
    entities.push_back(e);
    sql_rows.push_back(absl::StrCat("(", i, ", ", e.driver, ", 'epoch'::timestamptz + ",
                                    absl::ToUnixMicros(e.at), " * interval '1 microsecond', ",
                                    e.label, ")"));
  }
  v1::GetHistoricalFeaturesRequest request;
  request.set_project(h_->stack().project());
  request.set_feature_service("driver_activity");
  v1::EntityTable* table = request.mutable_entity_table();
  auto& drivers = (*table->mutable_columns())["driver_id"];
  auto& labels = (*table->mutable_columns())["label"];
  for (const EntityRow& e : entities) {
    drivers.add_val()->set_int64_val(e.driver);
    labels.add_val()->set_int64_val(e.label);
    *table->add_event_timestamps() = base::ToProtoTime(e.at);
  }
  ASSERT_OK_AND_ASSIGN(auto parts, Historical(*m, request));
  ASSERT_FALSE(parts.empty());
  ASSERT_TRUE(parts[0].has_header());
  std::vector<std::string> names;
  for (const auto& c : parts[0].header().columns()) names.push_back(c.name());
  EXPECT_THAT(names, ::testing::ElementsAre("driver_id", "event_timestamp", "label", "conv_rate",
                                            "acc_rate", "avg_daily_trips"));
  auto check = [&](const std::vector<v1::GetHistoricalFeaturesResponse>& got) {
    size_t r = 0;
    int wrong = 0;
    for (size_t p = 1; p < got.size(); ++p) {
      ASSERT_TRUE(got[p].has_batch());
      for (const v1::Row& row : got[p].batch().rows()) {
        ASSERT_LT(r, entities.size());
        const EntityRow& e = entities[r++];
        ASSERT_EQ(row.values_size(), 6);
        const std::optional<OfflineRow> want = AsOf(e.driver, e.at);
        const bool ok =
            row.values(0).int64_val() == e.driver &&
            row.values(1).unix_timestamp_val() == absl::ToUnixSeconds(e.at) &&
            row.values(2).int64_val() == e.label &&
            (want ? row.values(5).int64_val() == want->trips &&
                        std::abs(row.values(3).float_val() - want->trips / 1000.0) < 1e-6
                  : row.values(5).has_null_val() && row.values(3).has_null_val());
        if (!ok && ++wrong <= 5) {
          ADD_FAILURE() << "entity row " << r << " (driver " << e.driver << "): got "
                        << row.ShortDebugString() << ", want trips "
                        << (want ? absl::StrCat(want->trips) : std::string("null"));
        }
      }
    }
    EXPECT_EQ(r, entities.size());
    EXPECT_EQ(wrong, 0);
  };
  check(parts);
  EXPECT_GT(parts.size(), 2u);  // in batches

  // The same rows as a query over the offline database.
  ASSERT_OK(h_->stack().postgres().Execute(
      absl::StrCat("CREATE TABLE training_rows (n int, driver_id bigint, ts timestamptz, label "
                   "bigint); INSERT INTO training_rows VALUES ",
                   absl::StrJoin(sql_rows, ",")),
      "granary"));
  request.clear_entity_table();
  request.set_entity_sql("SELECT driver_id, ts, label FROM training_rows ORDER BY n");
  request.set_event_timestamp_column("ts");
  ASSERT_OK_AND_ASSIGN(parts, Historical(*m, request));
  names.clear();
  for (const auto& c : parts[0].header().columns()) names.push_back(c.name());
  EXPECT_THAT(names, ::testing::ElementsAre("driver_id", "ts", "label", "conv_rate", "acc_rate",
                                            "avg_daily_trips"));
  check(parts);

  // Full feature names.
  request.set_full_feature_names(true);
  ASSERT_OK_AND_ASSIGN(parts, Historical(*m, request));
  EXPECT_EQ(parts[0].header().columns(5).name(), "driver_hourly_stats__avg_daily_trips");
}

TEST_F(MaterializationTest, HistoricalRequestsThatCannotBeAnsweredSayWhy) {
  ASSERT_OK_AND_ASSIGN(testing::TestService * m,
                       h_->stack().Spawn("materializer", {.section = "task_threads: 0"}));
  v1::GetHistoricalFeaturesRequest request;
  request.set_project(h_->stack().project());
  request.mutable_features()->add_val("driver_hourly_stats:conv_rate");
  request.mutable_features()->add_val("driver_hourly_stats:nope");
  request.set_entity_sql("SELECT 1::bigint AS driver_id, now() AS event_timestamp");
  EXPECT_THAT(
      Historical(*m, request).status(),
      testing::StatusIs(absl::StatusCode::kNotFound, HasSubstr("driver_hourly_stats:nope")));
  request.mutable_features()->set_val(1, "no_colon");
  EXPECT_THAT(Historical(*m, request).status(),
              testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no_colon")));
  request.mutable_features()->mutable_val()->RemoveLast();
  request.set_entity_sql("SELECT 1 AS rider, now() AS event_timestamp");
  EXPECT_THAT(Historical(*m, request).status(),
              testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("driver_id")));
  request.set_entity_sql("SELECT * FROM no_such_table");
  EXPECT_THAT(Historical(*m, request).status(),
              testing::StatusIs(absl::StatusCode::kNotFound, HasSubstr("no_such_table")));
  // A query that ends the parenthesis and goes on (out of the read-only transaction, even) is
  // refused before anything of it runs.
  request.set_entity_sql(
      "SELECT 1::bigint AS driver_id, now() AS event_timestamp) x; COMMIT; DROP TABLE "
      "driver_stats; SELECT * FROM (SELECT 1");
  EXPECT_THAT(Historical(*m, request).status(),
              testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("entity_sql")));
  EXPECT_EQ(h_->Count("SELECT count(*) FROM driver_stats"), 0) << "the table is still there";
  // A query that would write anything is refused by the read-only transaction.
  ASSERT_OK(h_->stack().postgres().Execute("CREATE SEQUENCE side_effect", "granary"));
  request.set_entity_sql(
      "SELECT 1::bigint AS driver_id, now() AS event_timestamp, nextval('side_effect') AS n");
  EXPECT_THAT(Historical(*m, request).status(),
              testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("read-only")));
  v1::EntityTable* table = request.mutable_entity_table();
  (*table->mutable_columns())["driver_id"].add_val()->set_string_val("not a number");
  *table->add_event_timestamps() = base::ToProtoTime(t0_);
  EXPECT_THAT(Historical(*m, request).status(),
              testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("row 1")));
  (*table->mutable_columns())["driver_id"].mutable_val(0)->set_int64_val(1);
  *table->add_event_timestamps() = base::ToProtoTime(t0_);
  EXPECT_THAT(Historical(*m, request).status(),
              testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("1 values for 2")));
  request.set_feature_service("no_such_service");
  EXPECT_THAT(Historical(*m, request).status(),
              testing::StatusIs(absl::StatusCode::kNotFound, HasSubstr("no_such_service")));
}

}  // namespace
}  // namespace granary::integration
