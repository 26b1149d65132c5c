// OnlineReader against a real Redis holding values in Feast's layout: the column-major
// response, every status (PRESENT, NULL_VALUE, NOT_FOUND, OUTSIDE_MAX_AGE) with its timestamp,
// composite and entity-less keys, aliases, one round trip per request, catalog changes, project
// routing, deadlines and a Redis outage.
#include "services/serving/online_reader.h"

#include <map>
#include <random>
#include <thread>

#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"

#include "libs/base/proto_time.h"
#include "libs/keys/entity_key.h"
#include "libs/keys/hash_field.h"
#include "libs/onlinestore/redis_online_store.h"
#include "libs/redis/client.h"
#include "libs/testing/redis_server.h"
#include "libs/testing/status_matchers.h"
#include "libs/testing/values.h"
#include "libs/transforms/write_time.h"
#include "services/serving/test_catalog.h"

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

const absl::Time kNow = absl::FromUnixSeconds(1'700'010'000);

class OnlineReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(redis_, RedisServer::Start());
    redis::RedisOptions options;
    options.host = redis_->host();
    options.port = redis_->port();
    store_ = std::make_shared<onlinestore::RedisOnlineStore>(
        options, onlinestore::AsyncReadOptions{
                     .connections = 1, .on_round_trip = [this](absl::Duration, size_t gets) {
                       round_trips_.fetch_add(1);
                       last_batch_gets_.store(static_cast<int64_t>(gets));
                     }});
    writer_ = store_->NewSession();
    catalogs_["shop"] = testing::TestCatalog("shop");
    metrics_ = std::make_shared<ServingMetrics>(registry_);
    reader_ = std::make_unique<OnlineReader>(
        OnlineReaderOptions{.default_project = "shop",
                            .projects = {"shop", "unapplied"},
                            .max_entity_rows = 100,
                            .max_request_time = absl::Seconds(10)},
        [this](const std::string& project)
            -> absl::StatusOr<std::shared_ptr<const registry_client::Catalog>> {
          absl::MutexLock lock(&mu_);
          auto it = catalogs_.find(project);
          if (it == catalogs_.end()) return absl::UnavailableError("not loaded");
          return it->second;
        },
        store_, clock_, metrics_);
  }

  // Writes one row of a view as Feast's materialization would.
  void Write(const std::string& view, std::vector<std::pair<std::string, Value>> entity,
             absl::Time event_time, std::vector<std::pair<std::string, Value>> values,
             int64_t view_version = 0) {
    std::vector<std::pair<std::string, Value>> key_values = entity;
    if (key_values.empty()) key_values.push_back({keys::kDummyJoinKey, Str("")});
    ASSERT_OK_AND_ASSIGN(std::string key, keys::RedisKey(key_values, "shop"));
    onlinestore::ViewWrite write;
    write.view = view;
    write.view_version = view_version;
    onlinestore::RowWrite row{key, event_time, /*created_time=*/event_time, {}};
    for (auto& [feature, value] : values) {
      write.feature_fields.push_back(keys::FeatureField(view, feature));
      row.values.push_back(value.SerializeAsString());
    }
    write.rows.push_back(std::move(row));
    ASSERT_OK(writer_->WriteNewer(write, absl::Now() + absl::Seconds(10)).status());
  }

  absl::StatusOr<Response> Read(const v1::GetOnlineFeaturesRequest& request,
                                absl::Time deadline = absl::InfiniteFuture()) {
    absl::StatusOr<std::string> answer;
    absl::Notification done;
    reader_->Read(request, deadline, [&](absl::StatusOr<std::string> a) {
      answer = std::move(a);
      done.Notify();
    });
    if (!done.WaitForNotificationWithTimeout(absl::Seconds(30))) {
      return absl::InternalError("no answer");
    }
    if (!answer.ok()) return answer.status();
    // The bytes must be exactly a response: what a client will parse.
    Response response;
    if (!response.ParseFromString(*answer)) return absl::InternalError("unparsable response");
    if (response.SerializeAsString() != *answer) {
      return absl::InternalError("not the canonical encoding of the response");
    }
    return response;
  }

  // A counter's value, by its status label ("" for a counter without labels).
  double Counter(const std::string& name, const std::string& status) {
    for (const auto& family : registry_.Collect()) {
      if (family.name != name) continue;
      for (const auto& metric : family.metric) {
        if (status.empty() && metric.label.empty()) return metric.counter.value;
        for (const auto& label : metric.label) {
          if (label.value == status) return metric.counter.value;
        }
      }
    }
    return -1;
  }

  std::unique_ptr<RedisServer> redis_;
  std::shared_ptr<onlinestore::RedisOnlineStore> store_;
  std::unique_ptr<onlinestore::OnlineStoreSession> writer_;
  base::FakeClock clock_{kNow};
  prometheus::Registry registry_;
  std::shared_ptr<ServingMetrics> metrics_;
  absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<const registry_client::Catalog>> catalogs_;
  std::unique_ptr<OnlineReader> reader_;
  std::atomic<int> round_trips_{0};
  std::atomic<int64_t> last_batch_gets_{0};
};

v1::GetOnlineFeaturesRequest Request(std::vector<std::string> refs, std::vector<int64_t> drivers) {
  v1::GetOnlineFeaturesRequest r;
  for (auto& ref : refs) r.mutable_features()->add_val(ref);
  auto& column = (*r.mutable_entities())["driver_id"];
  for (int64_t d : drivers) column.add_val()->set_int64_val(d);
  return r;
}

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

v1::GetOnlineFeaturesRequest Boosted(std::vector<int64_t> drivers, std::vector<Value> boosts) {
  v1::GetOnlineFeaturesRequest r =
      Request({"boosted:boosted_rate", "boosted:trips_label"}, drivers);
  auto& column = (*r.mutable_request_context())["boost"];
  for (const Value& b : boosts) *column.add_val() = b;
  return r;
}

TEST_F(OnlineReaderTest, OnDemandFeaturesAreComputedFromSourcesReadButNotReturned) {
  Write("driver_stats", {{"driver_id", Int64(1)}}, kNow - absl::Minutes(1),
        {{"conv_rate", Double(0.5)}, {"trips", Int64(7)}});
  Write("driver_stats", {{"driver_id", Int64(2)}}, kNow - absl::Minutes(2),
        {{"conv_rate", Double(0.25)}, {"trips", Int64(2)}});
  const int before = round_trips_.load();
  ASSERT_OK_AND_ASSIGN(Response r, Read(Boosted({1, 2, 3}, {Double(2), Int64(4), Double(1)})));
  EXPECT_EQ(round_trips_.load() - before, 1) << "the sources are read in one round trip";
  // conv_rate and trips are read for the expressions, not returned.
  EXPECT_THAT(r.metadata().feature_names().val(),
              ElementsAre("driver_id", "boosted_rate", "trips_label"));
  ASSERT_EQ(r.results_size(), 3);
  EXPECT_DOUBLE_EQ(r.results(1).values(0).double_val(), 1.0);
  EXPECT_DOUBLE_EQ(r.results(1).values(1).double_val(), 1.0);
  EXPECT_EQ(r.results(2).values(0).string_val(), "busy");
  EXPECT_EQ(r.results(2).values(1).string_val(), "quiet");
  EXPECT_EQ(base::FromProtoTime(r.results(1).event_timestamps(0)), kNow - absl::Minutes(1));
  EXPECT_EQ(base::FromProtoTime(r.results(1).event_timestamps(1)), kNow - absl::Minutes(2));
  // Driver 3 was never written: its inputs are nil. One expression fails on nil (INVALID, that
  // row's output alone); the other returns nil (NULL_VALUE).
  EXPECT_THAT(r.results(1).statuses(), ElementsAre(v1::PRESENT, v1::PRESENT, v1::INVALID));
  EXPECT_THAT(r.results(2).statuses(), ElementsAre(v1::PRESENT, v1::PRESENT, v1::NULL_VALUE));
  EXPECT_EQ(Counter("granary_serving_values_total", "INVALID"), 1);

  // Asked for too, a source is returned as read.
  ASSERT_OK_AND_ASSIGN(r, Read([] {
                         v1::GetOnlineFeaturesRequest req = Boosted({1}, {Double(3)});
                         req.mutable_features()->add_val("driver_stats:conv_rate");
                         return req;
                       }()));
  EXPECT_THAT(r.metadata().feature_names().val(),
              ElementsAre("driver_id", "boosted_rate", "trips_label", "conv_rate"));
  EXPECT_DOUBLE_EQ(r.results(1).values(0).double_val(), 1.5);
  EXPECT_DOUBLE_EQ(r.results(3).values(0).double_val(), 0.5);
}

TEST_F(OnlineReaderTest, RequestColumnsAreCheckedByName) {
  // Only what the outputs asked for read is required: trips_label reads no request column.
  EXPECT_OK(Read(Request({"boosted:trips_label"}, {1})).status());
  v1::GetOnlineFeaturesRequest missing = Request({"boosted:boosted_rate"}, {1});
  EXPECT_THAT(Read(missing), StatusIs(absl::StatusCode::kInvalidArgument,
                                      HasSubstr("request_context: missing column 'boost'")));
  EXPECT_THAT(Read(Boosted({1, 2}, {Double(1)})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("request_context['boost']: 1 values for 2 entity rows")));
  EXPECT_THAT(Read(Boosted({1, 2}, {Double(1), Str("x")})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("request_context['boost'][1]: a string_val value, want DOUBLE")));
  // A null is taken, and is nil to the expression: conv_rate * nil fails for that output only.
  Write("driver_stats", {{"driver_id", Int64(1)}}, kNow - absl::Minutes(1),
        {{"conv_rate", Double(0.5)}, {"trips", Int64(7)}});
  ASSERT_OK_AND_ASSIGN(Response r, Read(Boosted({1}, {Null()})));
  EXPECT_EQ(r.results(1).statuses(0), v1::INVALID);
  EXPECT_EQ(r.results(2).values(0).string_val(), "busy");
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
TEST_F(OnlineReaderTest, WriteTimeOutputsEqualReadTimeOnesForEveryRow) {
  registry::v1::FeatureRepo repo = testing::TestRepo("shop");
  for (const char* mode : {"ON_READ", "ON_WRITE"}) {
    ASSERT_TRUE(google::protobuf::TextFormat::MergeFromString(
        absl::StrCat(R"pb(on_demand_feature_views { name: "labels_)pb", mode, R"pb(" mode: )pb",
                     mode, R"pb(
                         sources { feature_view { feature_view: "driver_stats" } }
                         schema { name: "ratio" dtype: DOUBLE }
                         schema { name: "label" dtype: STRING }
                         transformation {
                           expressions {
                             key: "ratio"
                             value: "if trips == nil then return nil end\nreturn conv_rate / trips"
                           }
                           expressions { key: "label" value: "trips > 5 and 'busy' or 'quiet'" }
                         }
                       })pb"),
        &repo));
  }
  std::shared_ptr<const registry_client::Catalog> catalog = testing::CatalogOf(repo);
  {
    absl::MutexLock lock(&mu_);
    catalogs_["shop"] = catalog;
  }
  std::mt19937 random(11);
  auto maybe_null = [&](Value v) { return random() % 5 == 0 ? Null() : v; };
  const std::vector<std::string> features = {"conv_rate", "trips"};
  int64_t failed = 0;
  constexpr int kDrivers = 80;
  for (int d = 1; d <= kDrivers; ++d) {
    // Up to three rows per driver, in any order of event time: the newest wins.
    for (int n = 1 + random() % 3; n > 0; --n) {
      ASSERT_OK_AND_ASSIGN(std::string key, keys::RedisKey({{"driver_id", Int64(d)}}, "shop"));
      onlinestore::ViewWrite write;
      write.view = "driver_stats";
      for (const std::string& f : features) {
        write.feature_fields.push_back(keys::FeatureField("driver_stats", f));
      }
      Value conv;
      conv.set_float_val(static_cast<float>(random() % 100) / 8);
      const absl::Time t = kNow - absl::Seconds(1 + random() % 3000);
      write.rows.push_back({key,
                            t,
                            t,
                            {maybe_null(conv).SerializeAsString(),
                             maybe_null(Int64(random() % 10)).SerializeAsString()}});
      ASSERT_OK(writer_->WriteNewer(write, absl::Now() + absl::Seconds(10)).status());
      ASSERT_OK_AND_ASSIGN(
          std::vector<onlinestore::ViewWrite> derived,
          transforms::DeriveWrites(catalog->serial(), catalog->repo(), write, features, &failed));
      ASSERT_EQ(derived.size(), 1u);
      ASSERT_OK(writer_->WriteNewer(derived[0], absl::Now() + absl::Seconds(10)).status());
    }
  }
  std::vector<int64_t> drivers;
  for (int d = 1; d <= kDrivers; ++d) drivers.push_back(d);
  v1::GetOnlineFeaturesRequest request = Request({"labels_ON_READ:ratio", "labels_ON_READ:label",
                                                  "labels_ON_WRITE:ratio", "labels_ON_WRITE:label"},
                                                 drivers);
  request.set_full_feature_names(true);
  ASSERT_OK_AND_ASSIGN(Response r, Read(request));
  int invalid = 0;
  for (int f = 1; f <= 2; ++f) {
    const auto& read_time = r.results(f);
    const auto& write_time = r.results(f + 2);
    for (int d = 0; d < kDrivers; ++d) {
      EXPECT_EQ(read_time.statuses(d), write_time.statuses(d)) << "feature " << f << " row " << d;
      EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(read_time.values(d),
                                                                     write_time.values(d)))
          << "feature " << f << " row " << d << ": " << read_time.values(d).ShortDebugString()
          << " vs " << write_time.values(d).ShortDebugString();
      EXPECT_EQ(read_time.event_timestamps(d).seconds(), write_time.event_timestamps(d).seconds());
      invalid += write_time.statuses(d) == v1::INVALID;
    }
  }
  // Failures were among the rows (null inputs), and are INVALID both ways.
  EXPECT_GT(invalid, 0);
  EXPECT_GT(failed, 0);
  // An entity never written has nothing stored: NOT_FOUND, where read time computes over nils.
  request = Request({"labels_ON_WRITE:ratio", "labels_ON_READ:ratio"}, {kDrivers + 1});
  request.set_full_feature_names(true);
  ASSERT_OK_AND_ASSIGN(r, Read(request));
  EXPECT_EQ(r.results(1).statuses(0), v1::NOT_FOUND);
  EXPECT_EQ(r.results(2).statuses(0), v1::NULL_VALUE);
}

}  // namespace
}  // namespace granary::serving
