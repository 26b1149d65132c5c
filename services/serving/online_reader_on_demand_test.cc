// OnlineReader's on-demand features against a real Redis: computed after the one round trip
// that reads their sources (returned only when asked), request columns checked by name, type and
// length, a failing row's output INVALID alone, the request's deadline bounding the work, and
// write-time outputs (stored when their source is written) equal to read-time ones.
#include <random>

#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

#include "libs/testing/eventually.h"
#include "libs/transforms/write_time.h"
#include "services/serving/online_reader_fixture.h"

namespace granary::serving {
namespace {

using ::granary::testing::Double;
using ::granary::testing::Int64;
using ::granary::testing::Null;
using ::granary::testing::StatusIs;
using ::granary::testing::Str;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using types::v1::Value;
using Response = v1::GetOnlineFeaturesResponse;

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
  // The round-trip callback runs after the answers are handed out (on the pipeline's thread,
  // when the read did not run on the caller's): counted once it has run.
  ASSERT_TRUE(::granary::testing::Eventually([&] { return round_trips_.load() > before; },
                                             absl::Seconds(10)));
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
  std::shared_ptr<const registry_client::Catalog> catalog = UseCatalog(repo);
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

// The test catalog and "costly": 5 outputs that each run to the instruction limit (INVALID,
// after a million instructions).
registry::v1::FeatureRepo WithCostlyView() {
  registry::v1::FeatureRepo repo = testing::TestRepo("shop");
  auto* costly = repo.add_on_demand_feature_views();
  costly->set_name("costly");
  costly->add_sources()->mutable_feature_view()->set_feature_view("driver_stats");
  for (int o = 0; o < 5; ++o) {
    const std::string name = absl::StrCat("spin", o);
    auto* field = costly->add_schema();
    field->set_name(name);
    field->set_dtype(types::v1::ValueType::INT64);
    (*costly->mutable_transformation()->mutable_expressions())[name] =
        "local n = conv_rate or 0\nwhile true do n = n + 1 end";
  }
  return repo;
}

// Every output of "costly" for 100 drivers.
v1::GetOnlineFeaturesRequest CostlyRequest() {
  std::vector<int64_t> drivers;
  for (int d = 1; d <= 100; ++d) drivers.push_back(d);
  return Request({"costly:spin0", "costly:spin1", "costly:spin2", "costly:spin3", "costly:spin4"},
                 drivers);
}

// Each evaluation is bounded by the sandbox; a request of many rows and costly expressions by
// its deadline, checked between rows: the reader thread stops working for a caller who stopped
// waiting.
TEST_F(OnlineReaderTest, TheDeadlineBoundsTheOnDemandWorkOfARequest) {
  UseCatalog(WithCostlyView());
  // 100 rows x 5 outputs x 1M instructions is seconds of work; the deadline is a second.
  absl::StatusOr<Response> r = Read(CostlyRequest(), absl::Now() + absl::Seconds(1));
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kDeadlineExceeded,
                          AllOf(HasSubstr("while computing on-demand feature view 'costly'"),
                                Not(HasSubstr("(row 1 of 100)")))));
  // One row is answered, INVALID for each output (the limit, not the deadline).
  ASSERT_OK_AND_ASSIGN(Response one, Read(Request({"costly:spin0"}, {1})));
  EXPECT_EQ(one.results(1).statuses(0), v1::INVALID);
}

// On-demand features are computed off the online store's I/O thread: a request whose
// expressions take seconds does not hold up the reads of others on the same connection.
TEST_F(OnlineReaderTest, CostlyExpressionsDoNotHoldUpOtherRequestsReads) {
  UseComputeThreads(1);
  UseCatalog(WithCostlyView());
  Write("driver_stats", {{"driver_id", Int64(1)}}, kNow - absl::Minutes(1),
        {{"conv_rate", Double(0.5)}});
  // 100 rows x 5 outputs x 1M instructions: seconds of evaluation, once its read is in.
  const v1::GetOnlineFeaturesRequest slow_request = CostlyRequest();
  const int before = round_trips_.load();
  absl::Notification slow_done;
  reader_->Read(slow_request, absl::Now() + absl::Seconds(10),
                [&](absl::StatusOr<std::string>) { slow_done.Notify(); });
  // The precondition: its read is in, so it is computing now.
  ASSERT_TRUE(::granary::testing::Eventually([&] { return round_trips_.load() > before; },
                                             absl::Seconds(10)));
  ASSERT_FALSE(slow_done.HasBeenNotified());
  // Another request on the same single connection is read and answered meanwhile.
  ASSERT_OK_AND_ASSIGN(Response quick, Read(Request({"driver_stats:conv_rate"}, {1})));
  EXPECT_EQ(quick.results(1).statuses(0), v1::PRESENT);
  EXPECT_FALSE(slow_done.HasBeenNotified()) << "the quick read waited for the costly evaluations";
  slow_done.WaitForNotification();
}

}  // namespace
}  // namespace granary::serving
