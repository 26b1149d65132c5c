// A client generated from Feast's own serving proto (feast.serving.ServingService, written here
// from Feast's wire facts) against the real serving binary: it gets Feast's column-major
// answer, with the statuses Feast defines, and exactly the bytes Granary's own client gets for
// the same request. The stack (compat_stack.h) is started once for all tests; serving runs in
// its own process, since this binary links Feast's feast.serving messages.
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "feast/serving/ServingService.grpc.pb.h"
#include "feast/types/Value.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "granary/serving/v1/serving.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"

#include "tests/feast_compat/compat_stack.h"

namespace granary::feast_compat {
namespace {

using ::feast::serving::FieldStatus;
using ::feast::serving::GetOnlineFeaturesRequest;
using ::feast::serving::GetOnlineFeaturesResponse;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

constexpr int64_t kEntityRows[] = {1001, 1002, 1003, 9999};

// One stack for the whole binary: PostgreSQL's initdb alone takes a second or more.
class StackEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { stack_ = CompatStack::Start(); }
  void TearDown() override { stack_ = absl::UnknownError("torn down"); }
  static const absl::StatusOr<std::unique_ptr<CompatStack>>& stack() { return stack_; }

 private:
  static absl::StatusOr<std::unique_ptr<CompatStack>> stack_;
};

absl::StatusOr<std::unique_ptr<CompatStack>> StackEnvironment::stack_ =
    absl::FailedPreconditionError("not started");
const ::testing::Environment* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new StackEnvironment);

// What one response cell should hold: the value as text ("" when unset), its status and
// event time.
struct Cell {
  std::string value;
  FieldStatus status;
  absl::Time event_time;
};

absl::Time FromTimestamp(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

// A request variant: features list or feature service, short or full feature names.
struct Variant {
  const char* name;
  bool feature_service;
  bool full_feature_names;
};

void PrintTo(const Variant& v, std::ostream* os) { *os << v.name; }

class FeastClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto& started = StackEnvironment::stack();
    ASSERT_TRUE(started.ok()) << started.status();
    stack_ = started->get();
    auto channel =
        grpc::CreateChannel(stack_->serving_address(), grpc::InsecureChannelCredentials());
    feast_ = ::feast::serving::ServingService::NewStub(channel);
    granary_ = serving::v1::ServingService::NewStub(channel);
  }

  static GetOnlineFeaturesRequest Request(const Variant& v) {
    GetOnlineFeaturesRequest req;
    if (v.feature_service) {
      req.set_feature_service(kFeatureService);
    } else {
      for (const char* f : {"conv_rate", "acc_rate", "avg_daily_trips"}) {
        req.mutable_features()->add_val(absl::StrCat(kView, ":", f));
      }
    }
    ::feast::types::RepeatedValue& ids = (*req.mutable_entities())["driver_id"];
    for (int64_t id : kEntityRows) ids.add_val()->set_int64_val(id);
    req.set_full_feature_names(v.full_feature_names);
    return req;
  }

  grpc::Status Feast(const GetOnlineFeaturesRequest& req, GetOnlineFeaturesResponse* resp) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    return feast_->GetOnlineFeatures(&ctx, req, resp);
  }

  // The expected column of each feature (and of the join key), one cell per entity row.
  std::map<std::string, std::vector<Cell>> ExpectedColumns() const {
    const std::vector<DriverRow>& rows = stack_->rows();  // 1001, 1002, 1003
    const absl::Time epoch = absl::UnixEpoch();
    auto fresh = [](const DriverRow& r, std::string value) {
      return Cell{std::move(value), ::feast::serving::PRESENT, r.event_time};
    };
    const Cell stale{"", ::feast::serving::OUTSIDE_MAX_AGE, rows[2].event_time};
    const Cell missing{"", ::feast::serving::NOT_FOUND, epoch};
    std::map<std::string, std::vector<Cell>> columns;
    for (int64_t id : kEntityRows) {
      columns["driver_id"].push_back(
          {absl::StrCat("int64_val: ", id), ::feast::serving::PRESENT, epoch});
    }
    columns["conv_rate"] = {fresh(rows[0], "float_val: 0.5"), fresh(rows[1], "float_val: 0.25"),
                            stale, missing};
    columns["acc_rate"] = {fresh(rows[0], "float_val: 0.75"),
                           {"null_val: NULL", ::feast::serving::NULL_VALUE, rows[1].event_time},
                           stale,
                           missing};
    columns["avg_daily_trips"] = {fresh(rows[0], "int64_val: 42"), fresh(rows[1], "int64_val: 7"),
                                  stale, missing};
    return columns;
  }

  const CompatStack* stack_ = nullptr;
  std::unique_ptr<::feast::serving::ServingService::Stub> feast_;
  std::unique_ptr<serving::v1::ServingService::Stub> granary_;
};

TEST_F(FeastClientTest, TheClientIsFeastsOwnNotGranarysRedeclaration) {
  const google::protobuf::ServiceDescriptor* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
          ::feast::serving::ServingService::service_full_name());
  ASSERT_NE(service, nullptr);
  EXPECT_EQ(service->full_name(), "feast.serving.ServingService");
  EXPECT_EQ(service->file()->name(), "feast/serving/ServingService.proto");
  EXPECT_EQ(service->FindMethodByName("GetOnlineFeatures")->input_type()->full_name(),
            "feast.serving.GetOnlineFeaturesRequest");
  // //proto/feast/serving is not linked (it would clash by name with the messages above).
  EXPECT_EQ(google::protobuf::DescriptorPool::generated_pool()->FindFileByName(
                "feast/serving/serving_service.proto"),
            nullptr);
}

TEST_F(FeastClientTest, GetFeastServingInfoAnswersAVersion) {
  ::feast::serving::GetFeastServingInfoResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  grpc::Status s =
      feast_->GetFeastServingInfo(&ctx, ::feast::serving::GetFeastServingInfoRequest(), &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_THAT(resp.version(), HasSubstr("granary"));
}

TEST_F(FeastClientTest, AnUnknownFeatureViewIsNotFoundAndNamed) {
  GetOnlineFeaturesRequest req = Request({"features", false, false});
  req.mutable_features()->add_val("no_such_view:conv_rate");
  GetOnlineFeaturesResponse resp;
  grpc::Status s = Feast(req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("no_such_view"));
}

TEST_F(FeastClientTest, AnUnknownFeatureServiceIsNotFoundAndNamed) {
  GetOnlineFeaturesRequest req = Request({"service", true, false});
  req.set_feature_service("no_such_service");
  GetOnlineFeaturesResponse resp;
  grpc::Status s = Feast(req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("no_such_service"));
}

class FeastRequestTest : public FeastClientTest, public ::testing::WithParamInterface<Variant> {
 protected:
  // The features the variant asks for, in response order.
  std::vector<std::string> Features() const {
    return {"conv_rate", "acc_rate", "avg_daily_trips"};  // the feature service's too
  }
};

TEST_P(FeastRequestTest, AnswersInFeastsColumnMajorShape) {
  GetOnlineFeaturesResponse resp;
  grpc::Status s = Feast(Request(GetParam()), &resp);
  ASSERT_TRUE(s.ok()) << s.error_message() << "\n" << stack_->ServingOutput();

  std::vector<std::string> columns = {"driver_id"};  // the join key first
  std::vector<std::string> names = {"driver_id"};
  for (const std::string& f : Features()) {
    columns.push_back(f);
    names.push_back(GetParam().full_feature_names ? absl::StrCat(kView, "__", f) : f);
  }
  EXPECT_THAT(resp.metadata().feature_names().val(), ElementsAreArray(names));
  EXPECT_TRUE(resp.status());
  ASSERT_EQ(resp.results_size(), static_cast<int>(columns.size()));

  const std::map<std::string, std::vector<Cell>> expected = ExpectedColumns();
  for (size_t c = 0; c < columns.size(); ++c) {
    const GetOnlineFeaturesResponse::FeatureVector& column = resp.results(static_cast<int>(c));
    const std::vector<Cell>& want = expected.at(columns[c]);
    ASSERT_EQ(column.values_size(), static_cast<int>(want.size())) << columns[c];
    ASSERT_EQ(column.statuses_size(), static_cast<int>(want.size())) << columns[c];
    ASSERT_EQ(column.event_timestamps_size(), static_cast<int>(want.size())) << columns[c];
    for (size_t row = 0; row < want.size(); ++row) {
      SCOPED_TRACE(absl::StrCat(columns[c], " of driver ", kEntityRows[row]));
      const int r = static_cast<int>(row);
      EXPECT_EQ(column.values(r).ShortDebugString(), want[row].value);
      EXPECT_EQ(FieldStatus_Name(column.statuses(r)), FieldStatus_Name(want[row].status));
      EXPECT_EQ(FromTimestamp(column.event_timestamps(r)), want[row].event_time);
    }
  }
}

TEST_P(FeastRequestTest, GranarysOwnClientGetsTheSameBytes) {
  const GetOnlineFeaturesRequest feast_req = Request(GetParam());
  GetOnlineFeaturesResponse feast_resp;
  grpc::Status s = Feast(feast_req, &feast_resp);
  ASSERT_TRUE(s.ok()) << s.error_message();

  // The same request, carried over the wire from Feast's message to Granary's.
  serving::v1::GetOnlineFeaturesRequest granary_req;
  ASSERT_TRUE(granary_req.ParseFromString(feast_req.SerializeAsString()));
  ASSERT_EQ(granary_req.entities().at("driver_id").val_size(), 4);
  EXPECT_EQ(granary_req.full_feature_names(), GetParam().full_feature_names);
  serving::v1::GetOnlineFeaturesResponse granary_resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  s = granary_->GetOnlineFeatures(&ctx, granary_req, &granary_resp);
  ASSERT_TRUE(s.ok()) << s.error_message();

  const std::string feast_bytes = feast_resp.SerializeAsString();
  const std::string granary_bytes = granary_resp.SerializeAsString();
  EXPECT_EQ(feast_resp.results_size(), static_cast<int>(Features().size()) + 1);
  EXPECT_TRUE(feast_bytes == granary_bytes)
      << "Feast's client:   " << feast_resp.ShortDebugString()
      << "\nGranary's client: " << granary_resp.ShortDebugString();
}

INSTANTIATE_TEST_SUITE_P(Variants, FeastRequestTest,
                         ::testing::Values(Variant{"FeatureListShortNames", false, false},
                                           Variant{"FeatureListFullNames", false, true},
                                           Variant{"FeatureServiceShortNames", true, false},
                                           Variant{"FeatureServiceFullNames", true, true}),
                         [](const ::testing::TestParamInfo<Variant>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace granary::feast_compat
