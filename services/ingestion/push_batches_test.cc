// Push checking and splitting, against a catalog built in the test: types, conversions,
// routing to several views, and the errors a producer sees.
#include "services/ingestion/push_batches.h"

#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

#include "libs/base/proto_time.h"
#include "libs/testing/status_matchers.h"
#include "libs/testing/values.h"
#include "services/ingestion/push_values.h"

namespace granary::ingestion {
namespace {

using ::granary::testing::Int32;
using ::granary::testing::Int64;
using ::granary::testing::StatusIs;
using ::granary::testing::Str;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using types::v1::Value;

constexpr char kRepo[] = R"pb(
  project { name: "shop" }
  entities { name: "driver" join_key: "driver_id" value_type: INT64 }
  entities { name: "city" join_key: "city" value_type: STRING }
  data_sources {
    name: "stats_table"
    timestamp_field: "ts"
    created_timestamp_column: "created"
    postgres { table: "stats" }
  }
  data_sources {
    name: "stats_push"
    push { batch_source: "stats_table" }
  }
  data_sources {
    name: "idle_push"
    push { batch_source: "stats_table" }
  }
  data_sources {
    name: "orphan_push"
    push { batch_source: "gone" }
  }
  feature_views {
    name: "driver_stats"
    entities: "driver"
    schema { name: "trips" dtype: INT64 }
    schema { name: "rate" dtype: DOUBLE }
    schema { name: "last_seen" dtype: UNIX_TIMESTAMP }
    stream_source: "stats_push"
    meta { created_version: 2 }
  }
  feature_views {
    name: "archive"
    entities: "driver"
    schema { name: "rate" dtype: DOUBLE }
    stream_source: "stats_push"
    online: false
  }
  feature_views {
    name: "city_driver"
    entities: "driver"
    entities: "city"
    schema { name: "label" dtype: STRING }
    schema { name: "visits" dtype: UNIX_TIMESTAMP_LIST }
    stream_source: "stats_push"
    meta { created_version: 3 }
  }
)pb";

std::shared_ptr<const registry_client::Catalog> Catalog() {
  registry::v1::Snapshot snapshot;
  snapshot.set_version(3);
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(kRepo, snapshot.mutable_repo()));
  return std::make_shared<registry_client::Catalog>(std::move(snapshot));
}

Value Null() {
  Value v;
  v.set_null_val(types::v1::NULL_);
  return v;
}

Value Times(std::vector<int64_t> seconds) {
  Value v;
  for (int64_t s : seconds) v.mutable_unix_timestamp_list_val()->add_val(s);
  return v;
}

constexpr int64_t kReceived = 50;

class PushBatchesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    catalog_ = Catalog();
    auto route = RoutePush(*catalog_, "stats_push");
    ASSERT_OK(route.status());
    route_ = *route;
    request_.set_push_source_name("stats_push");
  }
  void Column(const std::string& name, std::vector<Value> values) {
    auto& c = (*request_.mutable_columns())[name];
    c.clear_val();
    for (auto& v : values) *c.add_val() = v;
  }
  Value& Cell(const std::string& column, int row) {
    return *(*request_.mutable_columns())[column].mutable_val(row);
  }
  // One good row of every column the source's views need.
  void OneGoodRow() {
    Column("driver_id", {Int64(1)});
    Column("city", {Str("paris")});
    Column("ts", {Int64(10)});
    Column("trips", {Int64(1)});
    Column("rate", {Null()});
    Column("last_seen", {Null()});
    Column("label", {Str("a")});
    Column("visits", {Times({1, 2})});
  }
  absl::StatusOr<std::vector<events::v1::PushBatch>> Build(size_t max_rows = 100) {
    return BuildPushBatches(*route_, request_,
                            {.batch_id = "b1",
                             .received = absl::FromUnixSeconds(kReceived),
                             .max_rows = max_rows,
                             .max_future_skew = absl::Hours(1)});
  }

  std::shared_ptr<const registry_client::Catalog> catalog_;
  std::shared_ptr<const PushRoute> route_;
  v1::PushRequest request_;
};

TEST_F(PushBatchesTest, SplitsRowsPerViewWithTypedKeysAndValues) {
  Column("driver_id", {Int32(7), Int64(8)});  // int32 widens to the entity's INT64
  Column("ts", {Int64(-100), Str("1970-01-01T00:00:40Z")});
  Column("created", {Int64(45), Null()});  // a null created time: created when received
  Column("trips", {Int32(3), Value()});    // int32 widens; an empty cell is a null
  Column("rate", {testing::Double(0.5), Null()});
  Column("last_seen", {Int64(20), Null()});  // INT64 seconds widen to UNIX_TIMESTAMP
  Column("city", {Str("paris"), Str("oslo")});
  Column("label", {Str("a"), Str("b")});
  Column("visits", {Times({1}), Null()});
  request_.set_to(v1::ONLINE_AND_OFFLINE);
  ASSERT_OK_AND_ASSIGN(auto batches, Build());
  ASSERT_EQ(batches.size(), 3u);
  // Views in name order ("archive" is offline only); join keys sorted.
  const auto& city = batches[0];
  EXPECT_EQ(city.feature_view(), "city_driver");
  EXPECT_THAT(city.join_keys(), ElementsAre("city", "driver_id"));
  EXPECT_THAT(city.features(), ElementsAre("label", "visits"));
  EXPECT_EQ(city.view_version(), 3);
  EXPECT_TRUE(city.online());
  EXPECT_FALSE(city.offline());
  const auto& stats = batches[1];
  EXPECT_EQ(stats.feature_view(), "driver_stats");
  EXPECT_EQ(stats.project(), "shop");
  EXPECT_EQ(stats.batch_id(), "b1");
  EXPECT_EQ(stats.registry_version(), 3);
  EXPECT_EQ(stats.view_version(), 2);
  EXPECT_TRUE(stats.online());
  EXPECT_FALSE(stats.offline());  // the whole push goes offline once, below
  EXPECT_THAT(stats.features(), ElementsAre("trips", "rate", "last_seen"));  // schema order
  ASSERT_EQ(stats.rows_size(), 2);
  EXPECT_EQ(stats.rows(0).join_values(0).int64_val(), 7);
  EXPECT_EQ(stats.rows(0).features(0).int64_val(), 3);
  EXPECT_EQ(stats.rows(0).features(2).unix_timestamp_val(), 20);
  EXPECT_EQ(stats.rows(1).features(0).val_case(), Value::kNullVal);
  // Before 1970 is a time like any other.
  EXPECT_EQ(stats.rows(0).event_time().seconds(), -100);
  EXPECT_EQ(stats.rows(1).event_time().seconds(), 40);
  EXPECT_EQ(stats.rows(0).created_time().seconds(), 45);
  EXPECT_EQ(stats.rows(1).created_time().seconds(), kReceived);
  EXPECT_EQ(base::FromProtoTime(stats.received_time()), absl::FromUnixSeconds(kReceived));
  EXPECT_EQ(PushSubject(stats), "granary.push.shop.driver_stats");
  EXPECT_EQ(PushMessageId(stats), "shop/b1/driver_stats");
  // Offline, one row per pushed row with every key and feature the source's views have (each
  // once), not one partial row per view that the point-in-time join could pick.
  const auto& whole = batches[2];
  EXPECT_TRUE(whole.whole_push());
  EXPECT_FALSE(whole.online());
  EXPECT_TRUE(whole.offline());
  EXPECT_EQ(whole.feature_view(), "archive");
  EXPECT_THAT(whole.join_keys(), ElementsAre("city", "driver_id"));
  EXPECT_THAT(whole.features(), ElementsAre("rate", "label", "visits", "trips", "last_seen"));
  ASSERT_EQ(whole.rows_size(), 2);
  EXPECT_EQ(whole.rows(0).join_values(0).string_val(), "paris");
  EXPECT_EQ(whole.rows(0).join_values(1).int64_val(), 7);
  EXPECT_EQ(whole.rows(0).features(0).double_val(), 0.5);
  EXPECT_EQ(whole.rows(0).features(3).int64_val(), 3);
  EXPECT_EQ(whole.rows(0).created_time().seconds(), 45);
  EXPECT_EQ(PushMessageId(whole), "shop/b1/*/offline");
  EXPECT_EQ(PushSubject(whole), "granary.push.shop.archive");
}

TEST_F(PushBatchesTest, WithoutACreatedColumnRowsAreCreatedWhenReceived) {
  OneGoodRow();
  ASSERT_OK_AND_ASSIGN(auto batches, Build());
  for (const auto& batch : batches) {
    ASSERT_EQ(batch.rows_size(), 1);
    EXPECT_EQ(base::FromProtoTime(batch.rows(0).created_time()), absl::FromUnixSeconds(kReceived));
  }
}

TEST_F(PushBatchesTest, TimesAreFlooredToTheMicrosecondPostgreSQLKeeps) {
  OneGoodRow();
  // Two corrections within one microsecond: offline they tie, so online they must too.
  Column("ts", {Str("1970-01-01T00:00:10.123456789Z")});
  Column("created", {Str("1969-12-31T23:59:59.9999995Z")});
  ASSERT_OK_AND_ASSIGN(auto batches, Build());
  ASSERT_FALSE(batches.empty());
  const events::v1::PushRow& row = batches[0].rows(0);
  EXPECT_EQ(row.event_time().seconds(), 10);
  EXPECT_EQ(row.event_time().nanos(), 123456000);
  // Before 1970 too: floored (toward the past), as PostgreSQL's text form is.
  EXPECT_EQ(row.created_time().seconds(), -1);
  EXPECT_EQ(row.created_time().nanos(), 999999000);
}

TEST_F(PushBatchesTest, TargetDefaultsToOnline) {
  OneGoodRow();
  Column("rate", {Int64(1)});
  EXPECT_THAT(Build(), StatusIs(absl::StatusCode::kInvalidArgument,
                                HasSubstr("columns[rate] row 0: expected DOUBLE, found an INT64")));
  Cell("rate", 0).set_double_val(0.5);
  ASSERT_OK_AND_ASSIGN(auto batches, Build());
  // "archive" (online: false) has rate too, but is not written online.
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[0].feature_view(), "city_driver");
  EXPECT_EQ(batches[1].feature_view(), "driver_stats");
  EXPECT_TRUE(batches[1].online());
  EXPECT_FALSE(batches[1].offline());
  request_.set_to(v1::ONLINE_AND_OFFLINE);
  ASSERT_OK_AND_ASSIGN(batches, Build());
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_TRUE(batches[0].online());
  EXPECT_TRUE(batches[1].online());
  EXPECT_EQ(batches[2].feature_view(), "archive");
  EXPECT_FALSE(batches[2].online());
  EXPECT_TRUE(batches[2].offline());
  EXPECT_TRUE(batches[2].whole_push());
  request_.set_to(v1::OFFLINE);
  ASSERT_OK_AND_ASSIGN(batches, Build());
  ASSERT_EQ(batches.size(), 1u);  // offline only: the whole, once
  EXPECT_TRUE(batches[0].whole_push());
}

TEST_F(PushBatchesTest, APushCarriesEveryFeatureOfEachViewItsSourceFeeds) {
  OneGoodRow();
  ASSERT_OK(Build().status());
  request_.mutable_columns()->erase("trips");
  request_.mutable_columns()->erase("last_seen");
  EXPECT_THAT(Build(), StatusIs(absl::StatusCode::kInvalidArgument,
                                HasSubstr("columns: missing trips, last_seen of feature view "
                                          "\"driver_stats\"")));
  OneGoodRow();
  request_.mutable_columns()->erase("rate");  // online: false, but fed by the source all the same
  EXPECT_THAT(Build(), StatusIs(absl::StatusCode::kInvalidArgument,
                                HasSubstr("missing rate of feature view \"archive\"")));
  OneGoodRow();
  request_.mutable_columns()->erase("visits");
  EXPECT_THAT(Build(), StatusIs(absl::StatusCode::kInvalidArgument,
                                HasSubstr("missing visits of feature view \"city_driver\"")));
  OneGoodRow();
  request_.mutable_columns()->erase("city");
  EXPECT_THAT(Build(), StatusIs(absl::StatusCode::kInvalidArgument,
                                HasSubstr("missing join key of city_driver \"city\"")));
}

TEST_F(PushBatchesTest, BadBatchesNameTheColumnAndRow) {
  OneGoodRow();
  Column("driver_id", {Int64(1), Str("x")});
  for (const char* c : {"city", "ts", "trips", "rate", "last_seen", "label", "visits"}) {
    auto& column = (*request_.mutable_columns())[c];
    *column.add_val() = column.val(0);
  }
  EXPECT_THAT(Build(), StatusIs(absl::StatusCode::kInvalidArgument,
                                HasSubstr("columns[driver_id] row 1: expected INT64")));
  Cell("driver_id", 1).set_int64_val(2);
  Column("surprise", {Int64(1), Int64(2)});
  EXPECT_THAT(Build(), StatusIs(absl::StatusCode::kInvalidArgument,
                                HasSubstr("columns[surprise]: not a join key")));
  request_.mutable_columns()->erase("surprise");
  (*request_.mutable_columns())["trips"].add_val()->set_int64_val(3);
  EXPECT_THAT(Build(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("3 values")));
  (*request_.mutable_columns())["trips"].mutable_val()->RemoveLast();
  Cell("ts", 0).set_string_val("yesterday");
  EXPECT_THAT(Build(), StatusIs(absl::StatusCode::kInvalidArgument,
                                HasSubstr("columns[ts] row 0: \"yesterday\" is not an RFC 3339")));
  Cell("ts", 0).set_int64_val(5);
  EXPECT_THAT(Build(/*max_rows=*/1),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("more than the 1")));
  ASSERT_OK(Build().status());
  Cell("ts", 1) = Null();
  EXPECT_THAT(Build(), StatusIs(absl::StatusCode::kInvalidArgument,
                                HasSubstr("columns[ts] row 1: expected a time")));
  request_.mutable_columns()->erase("ts");
  EXPECT_THAT(Build(), StatusIs(absl::StatusCode::kInvalidArgument,
                                HasSubstr("missing event timestamp column \"ts\"")));
}

TEST_F(PushBatchesTest, TimesTooFarAheadAreRefusedNamingRowAndColumn) {
  OneGoodRow();
  const int64_t limit = kReceived + 3600;
  Column("ts", {Int64(limit)});
  ASSERT_OK(Build().status());  // exactly max_future_skew ahead: still fine
  Cell("ts", 0).set_int64_val(limit + 1);
  EXPECT_THAT(Build(), StatusIs(absl::StatusCode::kInvalidArgument,
                                AllOf(HasSubstr("columns[ts] row 0: 1970-01-01T01:00:51Z is more "
                                                "than 1h ahead"),
                                      HasSubstr("ingestion.max_future_skew"))));
  Cell("ts", 0).set_int64_val(10);
  Column("created", {Int64(limit + 1)});
  EXPECT_THAT(Build(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("columns[created] row 0: ")));
}

TEST_F(PushBatchesTest, WhatTheStoresCannotHoldIsRefusedUpFront) {
  OneGoodRow();
  Column("ts", {Int64(-(int64_t{1} << 40))});  // ~34,800 years before 1970
  EXPECT_THAT(Build(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("columns[ts] row 0: ")));
  Cell("ts", 0).set_int64_val(100);
  // A timestamp feature PostgreSQL would refuse, even though Redis would take it.
  Cell("last_seen", 0).set_unix_timestamp_val(int64_t{1} << 42);
  EXPECT_THAT(Build(), StatusIs(absl::StatusCode::kInvalidArgument,
                                HasSubstr("columns[last_seen] row 0: ")));
  Cell("last_seen", 0).set_unix_timestamp_val(-62135596800);  // 0001-01-01: fine
  Column("visits", {Times({1, int64_t{1} << 42})});
  EXPECT_THAT(Build(), StatusIs(absl::StatusCode::kInvalidArgument,
                                HasSubstr("columns[visits] row 0: element 1: ")));
  Column("visits", {Null()});
  Column("label", {Str(std::string("a\0b", 3))});
  ASSERT_OK(Build().status());  // online only: Redis holds any bytes
  request_.set_to(v1::ONLINE_AND_OFFLINE);
  EXPECT_THAT(Build(), StatusIs(absl::StatusCode::kInvalidArgument,
                                HasSubstr("columns[label] row 0: a NUL character")));
  request_.set_to(static_cast<v1::PushTarget>(42));
  EXPECT_THAT(Build(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("to: unknown")));
}

TEST(PushRouteTest, SourcesThatCannotTakePushesAreRefused) {
  auto catalog = Catalog();
  EXPECT_THAT(RoutePush(*catalog, "nope"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("nope")));
  EXPECT_THAT(RoutePush(*catalog, "stats_table"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("not a push source")));
  EXPECT_THAT(RoutePush(*catalog, "idle_push"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("feeds no feature view")));
  EXPECT_THAT(RoutePush(*catalog, "orphan_push"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("\"gone\" not found")));
}

TEST(PushValuesTest, OnlyLosslessWideningsAreAccepted) {
  Value v = Int32(4);
  EXPECT_TRUE(ToFeatureType(types::v1::ValueType::INT64, &v));
  EXPECT_EQ(v.int64_val(), 4);
  Value f;
  f.set_float_val(0.5f);
  EXPECT_TRUE(ToFeatureType(types::v1::ValueType::DOUBLE, &f));
  EXPECT_EQ(f.double_val(), 0.5);
  Value d;
  d.set_double_val(0.5);
  EXPECT_FALSE(ToFeatureType(types::v1::ValueType::FLOAT, &d));
  Value big = Int64(1);
  EXPECT_FALSE(ToFeatureType(types::v1::ValueType::INT32, &big));
  Value list;
  list.mutable_int32_list_val()->add_val(1);
  list.mutable_int32_list_val()->add_val(2);
  EXPECT_TRUE(ToFeatureType(types::v1::ValueType::INT64_LIST, &list));
  EXPECT_THAT(list.int64_list_val().val(), ElementsAre(1, 2));
  Value text = Str("1");
  EXPECT_FALSE(ToFeatureType(types::v1::ValueType::INT64, &text));
}

}  // namespace
}  // namespace granary::ingestion
