// What the materialization and historical retrieval tests share: the stack with the example
// repo (examples/driver_stats) and no worker yet, random offline rows of driver_stats written
// here and kept for the brute-force answers (the latest row per driver in a range, the row as
// of a time), reads of every driver through serving, calls to the materializer, the job
// store's own view of a job's tasks, and freezing a worker while it holds a task.
#ifndef GRANARY_TESTS_INTEGRATION_OFFLINE_STACK_FIXTURE_H_
#define GRANARY_TESTS_INTEGRATION_OFFLINE_STACK_FIXTURE_H_

#include <signal.h>

#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

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

inline constexpr absl::Duration kWait = absl::Seconds(120);
// What every materializer of these tests runs with: small batches (many per task), quick
// retries.
inline constexpr char kWorker[] =
    "task_batch_rows: 25, task_min_backoff: 10ms, task_max_backoff: 200ms, stall_after: 60s";

struct OfflineRow {
  int64_t driver;
  absl::Time event;
  std::optional<absl::Time> created;
  int64_t trips;  // unique per row: which row was served shows
};

class OfflineStackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HarnessOptions options;
    options.materializers = 0;
    options.stack.jetstream = "{ack_wait: 2s}";  // a dead worker's task runs elsewhere soon
    Configure(options);
    if (HasFatalFailure()) return;
    ASSERT_OK_AND_ASSIGN(h_, IngestionHarness::Start(options));
    t0_ = h_->Now() - absl::Hours(12);
  }

  // A fixture's own changes to the stack, before it starts.
  virtual void Configure(HarnessOptions& /*options*/) {}

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

  std::unique_ptr<materialization::v1::MaterializationService::Stub> Stub(testing::TestService& m) {
    return materialization::v1::MaterializationService::NewStub(m.channel());
  }

  absl::StatusOr<materialization::v1::Job> Materialize(testing::TestService& m, absl::Time start,
                                                       absl::Time end, int shards) {
    materialization::v1::MaterializeRequest request;
    request.set_project(h_->stack().project());
    *request.mutable_start_time() = base::ToProtoTime(start);
    *request.mutable_end_time() = base::ToProtoTime(end);
    request.set_shards(shards);
    materialization::v1::Job job;
    grpc::ClientContext context;
    grpc::Status status = Stub(m)->Materialize(&context, request, &job);
    if (!status.ok()) return base::FromGrpcStatus(status);
    return job;
  }

  // Follows the job with WatchJob until it ends; the last message.
  absl::StatusOr<materialization::v1::Job> Watch(testing::TestService& m,
                                                 const std::string& job_id) {
    materialization::v1::WatchJobRequest request;
    request.set_job_id(job_id);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + kWait));
    auto reader = Stub(m)->WatchJob(&context, request);
    materialization::v1::Job job;
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
  absl::StatusOr<std::vector<materialization::v1::GetHistoricalFeaturesResponse>> Historical(
      testing::TestService& m, const materialization::v1::GetHistoricalFeaturesRequest& request) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + kWait));
    auto reader = Stub(m)->GetHistoricalFeatures(&context, request);
    std::vector<materialization::v1::GetHistoricalFeaturesResponse> parts;
    materialization::v1::GetHistoricalFeaturesResponse part;
    while (reader->Read(&part)) parts.push_back(part);
    grpc::Status status = reader->Finish();
    if (!status.ok()) return base::FromGrpcStatus(status);
    return parts;
  }

  // Freezes `worker` (SIGSTOP) at a moment the job store says it runs one of the job's tasks:
  // it records a task's success before acknowledging it, so a task RUNNING under a frozen
  // worker is held. The indexes of the tasks it holds; empty (a failure added) when never seen.
  std::vector<std::string> FreezeHoldingATask(testing::TestService& worker,
                                              const std::string& job_id) {
    const std::string held = absl::StrCat("state = 1 AND worker LIKE '%:", worker.pid(), "'");
    for (int i = 0; i < 2000; ++i) {
      // Seen holding one while it runs (so that it runs half the time, not starved by the
      // freezing: on a loaded machine the other worker would otherwise take every task)...
      if (TaskColumn(job_id, "task_index", held).empty()) {
        // A job whose tasks all ended can no longer be caught: say so now, not after 2000
        // more looks (its tasks were too short for this machine's load).
        if (i % 50 == 49 && TaskColumn(job_id, "task_index", "state IN (0, 1)").empty()) {
          ADD_FAILURE() << "the job's tasks all ended before the worker was seen holding one";
          return {};
        }
        continue;
      }
      // ... then frozen, and still holding one.
      if (kill(worker.pid(), SIGSTOP) != 0) break;
      std::vector<std::string> tasks = TaskColumn(job_id, "task_index", held);
      if (!tasks.empty()) return tasks;
      if (kill(worker.pid(), SIGCONT) != 0) break;
    }
    ADD_FAILURE() << "the worker was never seen holding a task";
    return {};
  }

  std::unique_ptr<IngestionHarness> h_;
  absl::Time t0_;
  std::vector<OfflineRow> rows_;
  int drivers_ = 0;
};

}  // namespace granary::integration

#endif  // GRANARY_TESTS_INTEGRATION_OFFLINE_STACK_FIXTURE_H_
