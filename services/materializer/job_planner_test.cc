// The rules that turn a request into a job: which views, which ranges, which tasks.
#include "services/materializer/job_planner.h"

#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

#include "libs/base/proto_time.h"
#include "libs/testing/status_matchers.h"

namespace granary::materializer {
namespace {

namespace v1 = materialization::v1;
using ::granary::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

absl::Time At(int64_t seconds) { return absl::FromUnixSeconds(seconds); }

registry_client::Catalog TestCatalog() {
  registry::v1::Snapshot snapshot;
  snapshot.set_version(7);
  google::protobuf::TextFormat::ParseFromString(
      R"pb(
        project { name: "shop" }
        entities { name: "driver" join_key: "driver_id" value_type: INT64 }
        data_sources {
          name: "stats"
          timestamp_field: "ts"
          postgres { table: "stats" }
        }
        feature_views {
          name: "hourly"
          entities: "driver"
          schema { name: "trips" dtype: INT64 }
          batch_source: "stats"
          ttl { seconds: 3600 }
        }
        feature_views {
          name: "forever"
          entities: "driver"
          schema { name: "trips" dtype: INT64 }
          batch_source: "stats"
        }
        feature_views {
          name: "offline_only"
          entities: "driver"
          schema { name: "trips" dtype: INT64 }
          batch_source: "stats"
          online: false
        }
        feature_views {
          name: "pushed_only"
          entities: "driver"
          schema { name: "trips" dtype: INT64 }
        }
        on_demand_feature_views {
          name: "busy"
          mode: ON_WRITE
          sources { feature_view { feature_view: "hourly" } }
          schema { name: "busy" dtype: BOOL }
          transformation { expressions { key: "busy" value: "trips > 10" } }
        }
      )pb",
      snapshot.mutable_repo());
  return registry_client::Catalog(std::move(snapshot));
}

v1::MaterializeRequest Request(int64_t start, int64_t end, std::vector<std::string> views = {}) {
  v1::MaterializeRequest request;
  *request.mutable_start_time() = base::ToProtoTime(At(start));
  *request.mutable_end_time() = base::ToProtoTime(At(end));
  for (const auto& v : views) request.add_feature_views(v);
  return request;
}

TEST(JobPlannerTest, EveryOnlineViewWithABatchSourceIsSplitIntoShards) {
  ASSERT_OK_AND_ASSIGN(JobPlan plan,
                       PlanMaterialize(Request(100, 200), TestCatalog(), {.shards = 3}));
  EXPECT_EQ(plan.project, "shop");
  EXPECT_EQ(plan.registry_version, 7);
  ASSERT_EQ(plan.ranges.size(), 2u);
  EXPECT_EQ(plan.ranges[0].feature_view, "hourly");
  EXPECT_EQ(plan.ranges[1].feature_view, "forever");
  ASSERT_EQ(plan.tasks.size(), 6u);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(plan.tasks[i].feature_view, i < 3 ? "hourly" : "forever");
    EXPECT_EQ(plan.tasks[i].shard, i % 3);
    EXPECT_EQ(plan.tasks[i].shard_count, 3);
    EXPECT_EQ(plan.tasks[i].start, At(100));
    EXPECT_EQ(plan.tasks[i].end, At(200));
  }
}

TEST(JobPlannerTest, AWriteTimeViewIsMaterializedThroughItsSource) {
  ASSERT_OK_AND_ASSIGN(JobPlan plan, PlanMaterialize(Request(100, 200, {"busy", "hourly"}),
                                                     TestCatalog(), {.shards = 1}));
  ASSERT_EQ(plan.ranges.size(), 1u);
  EXPECT_EQ(plan.ranges[0].feature_view, "hourly");
  ASSERT_EQ(plan.tasks.size(), 1u);
}

TEST(JobPlannerTest, ASpanCutsTheRangeAndTheLastSpanEndsAtTheEnd) {
  v1::MaterializeRequest request = Request(0, 250, {"hourly"});
  request.set_shards(2);
  ASSERT_OK_AND_ASSIGN(
      JobPlan plan,
      PlanMaterialize(request, TestCatalog(), {.shards = 9, .task_span = absl::Seconds(100)}));
  ASSERT_EQ(plan.tasks.size(), 6u);  // [0,100) [100,200) [200,250), 2 shards each
  EXPECT_EQ(plan.tasks[0].start, At(0));
  EXPECT_EQ(plan.tasks[1].end, At(100));
  EXPECT_EQ(plan.tasks[2].start, At(100));
  EXPECT_EQ(plan.tasks[5].start, At(200));
  EXPECT_EQ(plan.tasks[5].end, At(250));
  EXPECT_EQ(plan.tasks[5].shard, 1);
}

TEST(JobPlannerTest, BadRequestsAreRefusedNamingWhat) {
  const registry_client::Catalog catalog = TestCatalog();
  EXPECT_THAT(PlanMaterialize(Request(200, 200), catalog, {}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("end_time")));
  EXPECT_THAT(PlanMaterialize(Request(1, 2, {"nope", "hourly", "gone"}), catalog, {}).status(),
              StatusIs(absl::StatusCode::kNotFound, AllOf(HasSubstr("nope"), HasSubstr("gone"))));
  EXPECT_THAT(PlanMaterialize(Request(1, 2, {"offline_only"}), catalog, {}).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("not online")));
  EXPECT_THAT(PlanMaterialize(Request(1, 2, {"pushed_only"}), catalog, {}).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("no batch source")));
  v1::MaterializeRequest no_start = Request(1, 2);
  no_start.clear_start_time();
  EXPECT_THAT(PlanMaterialize(no_start, catalog, {}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("start_time")));
  v1::MaterializeRequest shards = Request(1, 2);
  shards.set_shards(-1);
  EXPECT_THAT(PlanMaterialize(shards, catalog, {}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("shards")));
  EXPECT_THAT(PlanMaterialize(Request(0, 1000), catalog,
                              {.shards = 10, .task_span = absl::Seconds(1), .max_tasks = 50})
                  .status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("more than 50 tasks")));
}

TEST(JobPlannerTest, IncrementalStartsWhereTheLastEndedElseAtEndMinusTtl) {
  v1::MaterializeIncrementalRequest request;
  *request.mutable_end_time() = base::ToProtoTime(At(10000));
  auto last_end = [](const std::string& view) -> absl::StatusOr<std::optional<absl::Time>> {
    if (view == "forever") return std::optional<absl::Time>(At(9000));
    return std::optional<absl::Time>();
  };
  ASSERT_OK_AND_ASSIGN(JobPlan plan,
                       PlanIncremental(request, TestCatalog(), last_end, {.shards = 1}));
  EXPECT_EQ(plan.kind, v1::MATERIALIZE_INCREMENTAL);
  ASSERT_EQ(plan.ranges.size(), 2u);
  EXPECT_EQ(plan.ranges[0].start, At(10000 - 3600));  // hourly: never, ttl 1h
  EXPECT_EQ(plan.ranges[1].start, At(9000));          // forever: where the last ended
  EXPECT_EQ(plan.ranges[1].end, At(10000));

  // Never materialized and no TTL: from the earliest time the registry can record.
  auto never = [](const std::string&) -> absl::StatusOr<std::optional<absl::Time>> {
    return std::optional<absl::Time>();
  };
  request.add_feature_views("forever");
  ASSERT_OK_AND_ASSIGN(plan, PlanIncremental(request, TestCatalog(), never, {.shards = 1}));
  ASSERT_EQ(plan.ranges.size(), 1u);
  EXPECT_EQ(plan.ranges[0].start, EarliestTime());
  EXPECT_EQ(base::FromProtoTime(base::ToProtoTime(EarliestTime())), EarliestTime());
}

TEST(JobPlannerTest, IncrementalLeavesOutWhatIsMaterializedAlready) {
  v1::MaterializeIncrementalRequest request;
  *request.mutable_end_time() = base::ToProtoTime(At(10000));
  auto done = [](const std::string&) -> absl::StatusOr<std::optional<absl::Time>> {
    return std::optional<absl::Time>(At(10000));
  };
  ASSERT_OK_AND_ASSIGN(JobPlan plan, PlanIncremental(request, TestCatalog(), done, {}));
  EXPECT_TRUE(plan.ranges.empty());
  EXPECT_TRUE(plan.tasks.empty());
  auto away = [](const std::string&) -> absl::StatusOr<std::optional<absl::Time>> {
    return absl::UnavailableError("registry away");
  };
  EXPECT_THAT(PlanIncremental(request, TestCatalog(), away, {}).status(),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST(JobPlannerTest, TimesAreKeptToTheMicrosecond) {
  v1::MaterializeRequest request = Request(0, 10);
  request.mutable_end_time()->set_nanos(1999);
  ASSERT_OK_AND_ASSIGN(JobPlan plan, PlanMaterialize(request, TestCatalog(), {.shards = 1}));
  EXPECT_EQ(plan.ranges[0].end, At(10) + absl::Microseconds(1));
}

}  // namespace
}  // namespace granary::materializer
