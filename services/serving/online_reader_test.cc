// OnlineReader against a real Redis holding values in Feast's layout: the column-major
// response, every status (PRESENT, NULL_VALUE, NOT_FOUND, OUTSIDE_MAX_AGE) with its timestamp,
// composite and entity-less keys, aliases, one round trip per request, catalog changes, project
// routing, deadlines and a Redis outage. On-demand features: online_reader_on_demand_test.cc.
#include <map>
#include <thread>

#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

#include "libs/redis/client.h"
#include "services/serving/online_reader_fixture.h"

namespace granary::serving {
namespace {

using ::granary::testing::Double;
using ::granary::testing::Int64;
using ::granary::testing::Null;
using ::granary::testing::RedisServer;
using ::granary::testing::StatusIs;
using ::granary::testing::Str;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using types::v1::Value;
using Response = v1::GetOnlineFeaturesResponse;

TEST_F(OnlineReaderTest, AnswersInFeastsColumnMajorShapeWithEveryStatus) {
  Write("driver_stats", {{"driver_id", Int64(1)}}, kNow - absl::Minutes(1),
        {{"conv_rate", Double(0.5)}, {"acc_rate", Double(0.9)}, {"trips", Int64(7)}});
  Write("driver_profile", {{"driver_id", Int64(1)}}, kNow - absl::Hours(100),
        {{"name", Str("ann")}, {"rating", Null()}});
  ASSERT_OK_AND_ASSIGN(Response r, Read(Request({"driver_stats:conv_rate", "driver_profile:name",
                                                 "driver_profile:rating", "driver_stats:trips"},
                                                {1, 3})));
  EXPECT_TRUE(r.status());
  EXPECT_THAT(r.metadata().feature_names().val(),
              ElementsAre("driver_id", "conv_rate", "name", "rating", "trips"));
  ASSERT_EQ(r.results_size(), 5);
  // The join key comes first, as given, PRESENT.
  EXPECT_EQ(r.results(0).values(0).int64_val(), 1);
  EXPECT_EQ(r.results(0).values(1).int64_val(), 3);
  EXPECT_THAT(r.results(0).statuses(), ElementsAre(v1::PRESENT, v1::PRESENT));
  // Row 0: found. The timestamps are the views' event times.
  EXPECT_DOUBLE_EQ(r.results(1).values(0).double_val(), 0.5);
  EXPECT_EQ(r.results(1).statuses(0), v1::PRESENT);
  EXPECT_EQ(base::FromProtoTime(r.results(1).event_timestamps(0)), kNow - absl::Minutes(1));
  EXPECT_EQ(r.results(2).values(0).string_val(), "ann");
  EXPECT_EQ(base::FromProtoTime(r.results(2).event_timestamps(0)), kNow - absl::Hours(100));
  EXPECT_EQ(r.results(3).statuses(0), v1::NULL_VALUE);  // a stored null
  EXPECT_EQ(r.results(4).values(0).int64_val(), 7);
  // Row 1: no such driver.
  for (int c = 1; c < 5; ++c) {
    EXPECT_EQ(r.results(c).statuses(1), v1::NOT_FOUND) << c;
    EXPECT_EQ(r.results(c).values(1).val_case(), Value::VAL_NOT_SET) << c;
    EXPECT_EQ(r.results(c).event_timestamps(1).seconds(), 0) << c;
  }
  EXPECT_EQ(Counter("granary_serving_values_total", "PRESENT"), 3);
  EXPECT_EQ(Counter("granary_serving_values_total", "NULL_VALUE"), 1);
  EXPECT_EQ(Counter("granary_serving_values_total", "NOT_FOUND"), 4);
}

TEST_F(OnlineReaderTest, ValuesOlderThanTheTtlAreOutsideMaxAge) {
  // driver_stats has a one-hour ttl; driver_profile none.
  Write("driver_stats", {{"driver_id", Int64(1)}}, kNow - absl::Hours(1), {{"trips", Int64(1)}});
  Write("driver_stats", {{"driver_id", Int64(2)}}, kNow - absl::Hours(1) - absl::Seconds(1),
        {{"trips", Int64(2)}});
  Write("driver_profile", {{"driver_id", Int64(2)}}, kNow - absl::Hours(10000),
        {{"name", Str("old")}});
  ASSERT_OK_AND_ASSIGN(Response r,
                       Read(Request({"driver_stats:trips", "driver_profile:name"}, {1, 2})));
  EXPECT_THAT(r.results(1).statuses(), ElementsAre(v1::PRESENT, v1::OUTSIDE_MAX_AGE));
  EXPECT_EQ(r.results(1).values(0).int64_val(), 1);
  EXPECT_EQ(r.results(1).values(1).val_case(), Value::VAL_NOT_SET);  // omitted
  EXPECT_EQ(base::FromProtoTime(r.results(1).event_timestamps(1)),
            kNow - absl::Hours(1) - absl::Seconds(1));
  EXPECT_EQ(r.results(2).statuses(1), v1::PRESENT);
  // Time passes: the first row ages out too.
  clock_.Advance(absl::Seconds(1));
  ASSERT_OK_AND_ASSIGN(r, Read(Request({"driver_stats:trips"}, {1})));
  EXPECT_EQ(r.results(1).statuses(0), v1::OUTSIDE_MAX_AGE);
}

TEST_F(OnlineReaderTest, RowsWrittenForAViewSinceDeletedAreNotFound) {
  // driver_stats is the view created at version 4.
  Write("driver_stats", {{"driver_id", Int64(1)}}, kNow, {{"trips", Int64(1)}}, 4);
  // Written for the view of the same name that was deleted (created at version 2).
  Write("driver_stats", {{"driver_id", Int64(2)}}, kNow, {{"trips", Int64(2)}}, 2);
  // Written by Feast: no incarnation to tell.
  Write("driver_stats", {{"driver_id", Int64(3)}}, kNow, {{"trips", Int64(3)}}, 0);
  ASSERT_OK_AND_ASSIGN(Response r, Read(Request({"driver_stats:trips"}, {1, 2, 3})));
  EXPECT_THAT(r.results(1).statuses(), ElementsAre(v1::PRESENT, v1::NOT_FOUND, v1::PRESENT));
  EXPECT_EQ(r.results(1).values(0).int64_val(), 1);
  EXPECT_EQ(r.results(1).values(1).val_case(), Value::VAL_NOT_SET);
  EXPECT_EQ(r.results(1).event_timestamps(1).seconds(), 0);
  EXPECT_EQ(r.results(1).values(2).int64_val(), 3);
}

TEST_F(OnlineReaderTest, AFeatureNeverWrittenForAnExistingRowIsNotFound) {
  Write("driver_stats", {{"driver_id", Int64(1)}}, kNow, {{"conv_rate", Double(0.1)}});
  ASSERT_OK_AND_ASSIGN(Response r,
                       Read(Request({"driver_stats:conv_rate", "driver_stats:trips"}, {1})));
  EXPECT_EQ(r.results(1).statuses(0), v1::PRESENT);
  EXPECT_EQ(r.results(2).statuses(0), v1::NOT_FOUND);
}

TEST_F(OnlineReaderTest, CorruptBytesSpoilOnlyTheirOwnValue) {
  Write("driver_stats", {{"driver_id", Int64(1)}}, kNow,
        {{"conv_rate", Double(0.1)}, {"trips", Int64(2)}});
  Write("driver_stats", {{"driver_id", Int64(2)}}, kNow, {{"trips", Int64(4)}});
  Write("driver_profile", {{"driver_id", Int64(2)}}, kNow, {{"name", Str("bo")}});
  // Someone wrote garbage: a value that is not a Value, a timestamp that is not a Timestamp.
  redis::RedisOptions options;
  options.host = redis_->host();
  options.port = redis_->port();
  redis::Client raw(options);
  ASSERT_OK_AND_ASSIGN(std::string one, keys::RedisKey({{"driver_id", Int64(1)}}, "shop"));
  ASSERT_OK_AND_ASSIGN(std::string two, keys::RedisKey({{"driver_id", Int64(2)}}, "shop"));
  ASSERT_OK(raw.Command({"HSET", one, keys::FeatureField("driver_stats", "conv_rate"),
                         std::string("\x12\x09oops", 6)})
                .status());
  ASSERT_OK(
      raw.Command({"HSET", two, keys::TimestampField("driver_profile"), "\x08\xff"}).status());
  ASSERT_OK_AND_ASSIGN(
      Response r,
      Read(Request({"driver_stats:conv_rate", "driver_stats:trips", "driver_profile:name"},
                   {1, 2})));
  EXPECT_THAT(r.results(1).statuses(), ElementsAre(v1::NOT_FOUND, v1::NOT_FOUND));
  EXPECT_THAT(r.results(2).statuses(), ElementsAre(v1::PRESENT, v1::PRESENT));
  EXPECT_EQ(r.results(2).values(0).int64_val(), 2);
  EXPECT_EQ(r.results(2).values(1).int64_val(), 4);
  EXPECT_THAT(r.results(3).statuses(), ElementsAre(v1::NOT_FOUND, v1::NOT_FOUND));
  EXPECT_EQ(Counter("granary_serving_corrupt_values_total", ""), 2);
}

TEST_F(OnlineReaderTest, AKeyThatIsNotAHashSpoilsOnlyItsRow) {
  Write("driver_stats", {{"driver_id", Int64(2)}}, kNow, {{"trips", Int64(4)}});
  redis::RedisOptions options;
  options.host = redis_->host();
  options.port = redis_->port();
  redis::Client raw(options);
  ASSERT_OK_AND_ASSIGN(std::string one, keys::RedisKey({{"driver_id", Int64(1)}}, "shop"));
  ASSERT_OK(raw.Command({"SET", one, "not a hash"}).status());
  ASSERT_OK_AND_ASSIGN(Response r, Read(Request({"driver_stats:trips"}, {1, 2})));
  EXPECT_THAT(r.results(1).statuses(), ElementsAre(v1::NOT_FOUND, v1::PRESENT));
  EXPECT_EQ(r.results(1).values(1).int64_val(), 4);
  EXPECT_EQ(Counter("granary_serving_corrupt_values_total", ""), 1);
}

TEST_F(OnlineReaderTest, ADeadlinePassingWhileRedisStallsAnswersOnTime) {
  Write("driver_stats", {{"driver_id", Int64(1)}}, kNow, {{"trips", Int64(4)}});
  redis::RedisOptions options;
  options.host = redis_->host();
  options.port = redis_->port();
  options.command_timeout = absl::Seconds(60);  // it waits out the pause
  redis::Client admin(options);
  ASSERT_OK(admin.Command({"CLIENT", "PAUSE", "1500", "ALL"}).status());
  // The admin's next command is held until the pause ends: when it is answered marks the end.
  absl::Time pause_over;
  std::thread marker([&] {
    EXPECT_OK(admin.Command({"PING"}).status());
    pause_over = absl::Now();
  });
  // Several rows and key groups: several HMGETs, still in flight when the deadline passes.
  v1::GetOnlineFeaturesRequest req =
      Request({"driver_stats:trips", "global_stats:active_drivers"}, {1, 2, 3});
  EXPECT_THAT(Read(req, absl::Now() + absl::Milliseconds(200)),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  const absl::Time answered = absl::Now();
  marker.join();
  EXPECT_LT(answered, pause_over);  // ordering, not a clock bound: before the pause ended
  // Once Redis answers again, so does serving.
  ASSERT_OK_AND_ASSIGN(Response r, Read(Request({"driver_stats:trips"}, {1})));
  EXPECT_EQ(r.results(1).values(0).int64_val(), 4);
}

TEST_F(OnlineReaderTest, CompositeAndEntityLessKeysInOneRoundTrip) {
  Write("driver_customer", {{"driver_id", Int64(1)}, {"customer_id", Str("c1")}}, kNow,
        {{"orders", Int64(4)}});
  Write("global_stats", {}, kNow, {{"active_drivers", Int64(900)}});
  Write("driver_stats", {{"driver_id", Int64(1)}}, kNow, {{"trips", Int64(7)}});
  v1::GetOnlineFeaturesRequest req = Request(
      {"driver_customer:orders", "global_stats:active_drivers", "driver_stats:trips"}, {1, 1});
  auto& customers = (*req.mutable_entities())["customer_id"];
  customers.add_val()->set_string_val("c1");
  customers.add_val()->set_string_val("c2");
  req.set_full_feature_names(true);
  int before = round_trips_.load();
  ASSERT_OK_AND_ASSIGN(Response r, Read(req));
  EXPECT_THAT(r.metadata().feature_names().val(),
              ElementsAre("customer_id", "driver_id", "driver_customer__orders",
                          "global_stats__active_drivers", "driver_stats__trips"));
  EXPECT_EQ(r.results(1).values(1).int64_val(), 1);
  EXPECT_THAT(r.results(2).statuses(), ElementsAre(v1::PRESENT, v1::NOT_FOUND));
  EXPECT_EQ(r.results(2).values(0).int64_val(), 4);
  EXPECT_EQ(r.results(3).values(0).int64_val(), 900);
  EXPECT_EQ(r.results(3).values(1).int64_val(), 900);
  EXPECT_EQ(r.results(4).values(1).int64_val(), 7);
  // Two rows x three key groups: six HMGETs, one round trip. (The callback runs after the
  // answer; the store's pipeline is joined to read it.)
  reader_.reset();
  store_.reset();
  EXPECT_EQ(round_trips_.load() - before, 1);
  EXPECT_EQ(last_batch_gets_.load(), 6);
}

TEST_F(OnlineReaderTest, FeatureServicesAndAliases) {
  Write("driver_stats", {{"driver_id", Int64(5)}}, kNow,
        {{"conv_rate", Double(0.25)}, {"acc_rate", Double(0.75)}});
  Write("driver_profile", {{"driver_id", Int64(5)}}, kNow,
        {{"name", Str("eve")}, {"rating", Double(4.5)}});
  v1::GetOnlineFeaturesRequest req;
  req.set_feature_service("ranking");
  req.set_full_feature_names(true);
  (*req.mutable_entities())["driver_id"].add_val()->set_int32_val(5);  // int32 for INT64: fine
  ASSERT_OK_AND_ASSIGN(Response r, Read(req));
  EXPECT_THAT(r.metadata().feature_names().val(),
              ElementsAre("driver_id", "driver_stats__conv_rate", "driver_stats__acc_rate",
                          "profile__name", "profile__rating"));
  EXPECT_DOUBLE_EQ(r.results(4).values(0).double_val(), 4.5);

  req.set_feature_service("twice");
  ASSERT_OK_AND_ASSIGN(r, Read(req));
  EXPECT_THAT(r.metadata().feature_names().val(),
              ElementsAre("driver_id", "a__conv_rate", "b__conv_rate"));
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(r.results(1), r.results(2)));
  EXPECT_DOUBLE_EQ(r.results(2).values(0).double_val(), 0.25);
}

TEST_F(OnlineReaderTest, ANewCatalogIsUsedAtOnce) {
  EXPECT_THAT(Read(Request({"driver_stats:surge"}, {1})),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no feature 'surge'")));
  registry::v1::FeatureRepo repo = testing::TestRepo("shop");
  auto* field = repo.mutable_feature_views(0)->add_schema();
  field->set_name("surge");
  field->set_dtype(types::v1::ValueType::DOUBLE);
  {
    absl::MutexLock lock(&mu_);
    catalogs_["shop"] = testing::CatalogOf(repo, 2);
  }
  Write("driver_stats", {{"driver_id", Int64(1)}}, kNow, {{"surge", Double(1.5)}});
  ASSERT_OK_AND_ASSIGN(Response r, Read(Request({"driver_stats:surge"}, {1})));
  EXPECT_DOUBLE_EQ(r.results(1).values(0).double_val(), 1.5);
}

TEST_F(OnlineReaderTest, ProjectsAreRoutedAndExplained) {
  v1::GetOnlineFeaturesRequest req = Request({"driver_stats:trips"}, {1});
  req.set_project("elsewhere");
  EXPECT_THAT(Read(req),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("'elsewhere' is not served here")));
  req.set_project("unapplied");  // served, but no catalog: the lookup says why
  EXPECT_THAT(Read(req), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("not loaded")));
  req.set_project("shop");
  EXPECT_OK(Read(req));
}

TEST_F(OnlineReaderTest, BadRequestsAreRefusedBeforeRedis) {
  EXPECT_THAT(Read(Request({"nope:x"}, {1})),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("feature view 'nope'")));
  v1::GetOnlineFeaturesRequest wrong = Request({"driver_stats:trips"}, {});
  (*wrong.mutable_entities())["driver_id"].add_val()->set_string_val("one");
  EXPECT_THAT(Read(wrong),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("entities.driver_id[0]")));
  std::vector<int64_t> many(101, 1);
  EXPECT_THAT(Read(Request({"driver_stats:trips"}, many)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("limit of 100")));
}

TEST_F(OnlineReaderTest, DeadlinesAndOutages) {
  EXPECT_THAT(Read(Request({"driver_stats:trips"}, {1}), absl::Now() - absl::Seconds(1)),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  Write("driver_stats", {{"driver_id", Int64(1)}}, kNow, {{"trips", Int64(3)}});
  ASSERT_OK(redis_->Stop());
  // UNAVAILABLE, not DEADLINE_EXCEEDED: it failed at once rather than waiting out its deadline.
  EXPECT_THAT(Read(Request({"driver_stats:trips"}, {1}), absl::Now() + absl::Seconds(60)),
              StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_OK(redis_->Restart());  // empty: the value is gone, the service is back
  absl::StatusOr<Response> r;
  for (absl::Time give_up = absl::Now() + absl::Seconds(20); absl::Now() < give_up;) {
    r = Read(Request({"driver_stats:trips"}, {1}));
    if (r.ok()) break;
    absl::SleepFor(absl::Milliseconds(20));  // retrying through the reconnect backoff
  }
  ASSERT_OK(r);
  EXPECT_EQ(r->results(1).statuses(0), v1::NOT_FOUND);
}

// The same expressions computed at write time (stored) and at read time give the same answer
// for every entity written, whatever the order its rows arrived in: the stored outputs are those
// of the stored source row, because both are written under the same guard.

}  // namespace
}  // namespace granary::serving
