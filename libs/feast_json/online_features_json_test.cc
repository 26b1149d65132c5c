#include "libs/feast_json/online_features_json.h"

#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "libs/testing/status_matchers.h"
#include "libs/testing/values.h"

namespace granary::feast_json {
namespace {

using ::granary::testing::Double;
using ::granary::testing::Int64;
using ::granary::testing::Null;
using ::granary::testing::StatusIs;
using nlohmann::json;
using serving::v1::FieldStatus;
using serving::v1::GetOnlineFeaturesRequest;
using serving::v1::GetOnlineFeaturesResponse;
using ::testing::HasSubstr;
using types::v1::Value;

constexpr int64_t kApril12 = 1618225182;  // 2021-04-12T10:59:42Z

void AddCell(GetOnlineFeaturesResponse::FeatureVector* column, Value value, FieldStatus status,
             int64_t seconds, int32_t nanos) {
  *column->add_values() = std::move(value);
  column->add_statuses(status);
  google::protobuf::Timestamp* ts = column->add_event_timestamps();
  ts->set_seconds(seconds);
  ts->set_nanos(nanos);
}

// Two entity rows, the join key and three features, every status and timestamp precision.
GetOnlineFeaturesResponse TwoDriverResponse() {
  GetOnlineFeaturesResponse response;
  response.set_status(true);
  for (const char* name : {"driver_id", "conv_rate", "acc_rate", "avg_daily_trips"}) {
    response.mutable_metadata()->mutable_feature_names()->add_val(name);
  }
  auto* driver_id = response.add_results();
  AddCell(driver_id, Int64(1001), serving::v1::PRESENT, 0, 0);
  AddCell(driver_id, Int64(9223372036854775807), serving::v1::PRESENT, 0, 0);
  auto* conv_rate = response.add_results();
  AddCell(conv_rate, Double(0.5), serving::v1::PRESENT, kApril12, 0);
  AddCell(conv_rate, Value(), serving::v1::NOT_FOUND, 0, 0);
  auto* acc_rate = response.add_results();
  AddCell(acc_rate, Null(), serving::v1::NULL_VALUE, kApril12, 500000000);
  AddCell(acc_rate, Value(), serving::v1::OUTSIDE_MAX_AGE, kApril12, 123456789);
  auto* trips = response.add_results();
  AddCell(trips, Int64(-3), serving::v1::PRESENT, kApril12, 1000);
  AddCell(trips, Int64(0), serving::v1::INVALID, -62135596800, 0);
  return response;
}

TEST(OnlineResponseToJsonTest, FeastShapeWithStatusesAndTimestamps) {
  const std::string text = OnlineResponseToJson(TwoDriverResponse()).dump();
  // What a client reads back from the wire.
  const json expected = json::parse(R"({
    "metadata": {"feature_names": ["driver_id", "conv_rate", "acc_rate", "avg_daily_trips"]},
    "results": [
      {"values": [1001, 9223372036854775807],
       "statuses": ["PRESENT", "PRESENT"],
       "event_timestamps": ["1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z"]},
      {"values": [0.5, null],
       "statuses": ["PRESENT", "NOT_FOUND"],
       "event_timestamps": ["2021-04-12T10:59:42Z", "1970-01-01T00:00:00Z"]},
      {"values": [null, null],
       "statuses": ["NULL_VALUE", "OUTSIDE_MAX_AGE"],
       "event_timestamps": ["2021-04-12T10:59:42.5Z", "2021-04-12T10:59:42.123456789Z"]},
      {"values": [-3, 0],
       "statuses": ["PRESENT", "INVALID"],
       "event_timestamps": ["2021-04-12T10:59:42.000001Z", "0001-01-01T00:00:00Z"]}
    ]})");
  EXPECT_EQ(json::parse(text), expected);
  // The largest int64 goes out digit for digit, not through a double.
  EXPECT_THAT(text, HasSubstr("[1001,9223372036854775807]"));
  EXPECT_EQ(json::parse(text)["results"][0]["values"][1].get<int64_t>(), 9223372036854775807);
  // Feast leaves the proto's status bool out.
  EXPECT_FALSE(json::parse(text).contains("status"));
}

TEST(OnlineResponseJsonTest, WritesFeastsShapeInFeastsKeyOrder) {
  GetOnlineFeaturesResponse response;
  response.mutable_metadata()->mutable_feature_names()->add_val("driver_id");
  response.mutable_metadata()->mutable_feature_names()->add_val("conv_rate");
  AddCell(response.add_results(), Int64(1001), serving::v1::PRESENT, 0, 0);
  auto* conv_rate = response.add_results();
  AddCell(conv_rate, Double(100000), serving::v1::PRESENT, kApril12, 500000000);
  AddCell(conv_rate, Value(), serving::v1::NOT_FOUND, 0, 0);
  // The bytes on the wire, as Feast's server orders them (values, statuses, event_timestamps).
  EXPECT_EQ(OnlineResponseJson(response),
            R"({"metadata":{"feature_names":["driver_id","conv_rate"]},"results":[)"
            R"({"values":[1001],"statuses":["PRESENT"],)"
            R"("event_timestamps":["1970-01-01T00:00:00Z"]},)"
            R"({"values":[100000.0,null],"statuses":["PRESENT","NOT_FOUND"],)"
            R"("event_timestamps":["2021-04-12T10:59:42.5Z","1970-01-01T00:00:00Z"]}]})");
}

TEST(OnlineResponseToJsonTest, RoundTripsThroughTheEntityParser) {
  // The join key column a server answers with parses back into the same entity values.
  const json response = json::parse(OnlineResponseToJson(TwoDriverResponse()).dump());
  json request = json::object();
  request["entities"]["driver_id"] = response["results"][0]["values"];
  request["features"] = json::array({"driver_hourly_stats:conv_rate"});
  ASSERT_OK_AND_ASSIGN(GetOnlineFeaturesRequest parsed, OnlineRequestFromJson(request.dump()));
  const auto& ids = parsed.entities().at("driver_id").val();
  ASSERT_EQ(ids.size(), 2);
  EXPECT_EQ(ids[0].int64_val(), 1001);
  EXPECT_EQ(ids[1].int64_val(), 9223372036854775807);
}

TEST(OnlineResponseToJsonTest, UnknownStatusNumberIsKeptAsANumber) {
  GetOnlineFeaturesResponse response;
  response.mutable_metadata()->mutable_feature_names()->add_val("f");
  response.add_results()->add_statuses(static_cast<FieldStatus>(42));
  EXPECT_EQ(OnlineResponseToJson(response)["results"][0]["statuses"], json::array({42}));
}

TEST(OnlineResponseToJsonTest, EmptyResponseHasEmptyArrays) {
  EXPECT_EQ(OnlineResponseToJson(GetOnlineFeaturesResponse()).dump(),
            R"({"metadata":{"feature_names":[]},"results":[]})");
}

TEST(OnlineResponseToJsonTest, IllFormedFeatureNameDoesNotThrowOnDump) {
  GetOnlineFeaturesResponse response;
  response.mutable_metadata()->mutable_feature_names()->add_val(std::string("v\xFE", 2));
  EXPECT_EQ(OnlineResponseToJson(response)["metadata"]["feature_names"][0], "v\xEF\xBF\xBD");
  EXPECT_NO_THROW(OnlineResponseToJson(response).dump());
}

TEST(OnlineRequestFromJsonTest, FeaturesAndEntities) {
  ASSERT_OK_AND_ASSIGN(GetOnlineFeaturesRequest request, OnlineRequestFromJson(R"({
      "entities": {"driver_id": [1001, 1002], "city": ["Zurich", null]},
      "features": ["driver_hourly_stats:conv_rate", "driver_hourly_stats:acc_rate"]})"));
  ASSERT_EQ(request.kind_case(), GetOnlineFeaturesRequest::kFeatures);
  EXPECT_THAT(request.features().val(), ::testing::ElementsAre("driver_hourly_stats:conv_rate",
                                                               "driver_hourly_stats:acc_rate"));
  ASSERT_EQ(request.entities().size(), 2u);
  const auto& ids = request.entities().at("driver_id").val();
  ASSERT_EQ(ids.size(), 2);
  EXPECT_EQ(ids[0].int64_val(), 1001);
  EXPECT_EQ(ids[1].int64_val(), 1002);
  const auto& cities = request.entities().at("city").val();
  ASSERT_EQ(cities.size(), 2);
  EXPECT_EQ(cities[0].string_val(), "Zurich");
  EXPECT_EQ(cities[1].val_case(), Value::kNullVal);
  EXPECT_FALSE(request.full_feature_names());
  EXPECT_TRUE(request.request_context().empty());
  EXPECT_EQ(request.project(), "");
}

TEST(OnlineRequestFromJsonTest, FeatureServiceWithEveryOptionalField) {
  ASSERT_OK_AND_ASSIGN(GetOnlineFeaturesRequest request, OnlineRequestFromJson(R"({
      "entities": {"driver_id": [1001]},
      "feature_service": "driver_activity",
      "full_feature_names": true,
      "request_context": {"val_to_add": [2.5]},
      "project": "feature_repo"})"));
  ASSERT_EQ(request.kind_case(), GetOnlineFeaturesRequest::kFeatureService);
  EXPECT_EQ(request.feature_service(), "driver_activity");
  EXPECT_TRUE(request.full_feature_names());
  EXPECT_EQ(request.project(), "feature_repo");
  const auto& context = request.request_context().at("val_to_add").val();
  ASSERT_EQ(context.size(), 1);
  EXPECT_EQ(context[0].double_val(), 2.5);
}

TEST(OnlineRequestFromJsonTest, NullOptionalFieldsCountAsAbsent) {
  ASSERT_OK_AND_ASSIGN(GetOnlineFeaturesRequest request, OnlineRequestFromJson(R"({
      "entities": {"driver_id": [1]}, "features": null, "feature_service": "svc",
      "full_feature_names": null, "request_context": null, "project": null})"));
  EXPECT_EQ(request.feature_service(), "svc");
  EXPECT_FALSE(request.full_feature_names());
  EXPECT_TRUE(request.request_context().empty());
  EXPECT_EQ(request.project(), "");
}

TEST(OnlineRequestFromJsonTest, EmptyEntitiesAreAllowed) {
  // Views without entities; serving decides what zero join keys mean.
  ASSERT_OK_AND_ASSIGN(GetOnlineFeaturesRequest request,
                       OnlineRequestFromJson(R"({"entities": {}, "features": ["v:f"]})"));
  EXPECT_TRUE(request.entities().empty());
  EXPECT_THAT(request.features().val(), ::testing::ElementsAre("v:f"));
}

// Each malformed body gives INVALID_ARGUMENT whose message names the field.
struct BadRequest {
  const char* name;
  std::string body;
  const char* message;
};

class OnlineRequestErrorTest : public ::testing::TestWithParam<BadRequest> {};

TEST_P(OnlineRequestErrorTest, IsInvalidArgumentNamingTheField) {
  EXPECT_THAT(OnlineRequestFromJson(GetParam().body),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(GetParam().message)));
}

constexpr char kOk[] = R"("entities": {"driver_id": [1001]}, "features": ["v:f"])";

INSTANTIATE_TEST_SUITE_P(
    Bodies, OnlineRequestErrorTest,
    ::testing::Values(
        BadRequest{"Empty", "", "body: not JSON: parse error at line 1, column 1"},
        BadRequest{"Truncated", R"({"entities": {)", "body: not JSON: parse error"},
        BadRequest{"TrailingGarbage", absl::StrCat("{", kOk, "} x"), "body: not JSON:"},
        BadRequest{"NotAnObject", "[1, 2]",
                   "body: expected a JSON object, found a list of 2 values"},
        BadRequest{"UnknownField", absl::StrCat(R"({"entity_rows": [], )", kOk, "}"),
                   "body: unknown field \"entity_rows\" (expected entities, features, "
                   "feature_service, full_feature_names, request_context, project)"},
        BadRequest{"UnknownFields", absl::StrCat(R"({"a": 1, "b": 2, )", kOk, "}"),
                   "body: unknown fields \"a\", \"b\""},
        BadRequest{"NoEntities", R"({"features": ["v:f"]})", "entities: required"},
        BadRequest{"NullEntities", R"({"entities": null, "features": ["v:f"]})",
                   "entities: required"},
        BadRequest{"EntitiesNotAnObject", R"({"entities": [1001], "features": ["v:f"]})",
                   "entities: expected an object of column name -> list of values, found a list "
                   "of 1 value"},
        BadRequest{"EntityColumnNotAList",
                   R"({"entities": {"driver_id": 1001}, "features": ["v:f"]})",
                   "entities.driver_id: expected a list of values, one per entity row, found an "
                   "integer (1001)"},
        BadRequest{"EntityValueIsAList",
                   R"({"entities": {"driver_id": [1001, [1, 2]]}, "features": ["v:f"]})",
                   "entities.driver_id[1]: expected a single value (number, string, bool or "
                   "null), found a list of 2 values"},
        BadRequest{"EntityValueIsAnObject",
                   R"({"entities": {"driver_id": [{"id": 1}]}, "features": ["v:f"]})",
                   "entities.driver_id[0]: expected a single value (number, string, bool or "
                   "null), found an object with 1 key"},
        BadRequest{"EntityValuePastInt64",
                   R"({"entities": {"driver_id": [18446744073709551615]}, "features": ["v:f"]})",
                   "entities.driver_id[0]: integer 18446744073709551615 is outside the int64 "
                   "range"},
        BadRequest{"EmptyColumnName", R"({"entities": {"": [1]}, "features": ["v:f"]})",
                   "entities: a column name is empty"},
        BadRequest{"RaggedEntities",
                   R"({"entities": {"a": [1, 2], "b": [1, 2, 3]}, "features": ["v:f"]})",
                   "entities.b: has 3 values but entities.a has 2; every column needs one value "
                   "per entity row"},
        BadRequest{"RequestContextRowsDiffer",
                   R"({"entities": {"a": [1, 2]}, "request_context": {"x": [1]},
                       "features": ["v:f"]})",
                   "request_context.x: has 1 values but entities.a has 2"},
        BadRequest{"RequestContextNotAnObject",
                   absl::StrCat(R"({"request_context": "x", )", kOk, "}"),
                   "request_context: expected an object of column name -> list of values, found "
                   "a string (\"x\")"},
        BadRequest{"RequestContextValueIsAList",
                   absl::StrCat(R"({"request_context": {"x": [[1]]}, )", kOk, "}"),
                   "request_context.x[0]: expected a single value"},
        BadRequest{"NeitherFeaturesNorService", R"({"entities": {"a": [1]}})",
                   "body: give exactly one of \"features\" and \"feature_service\", found "
                   "neither"},
        BadRequest{"FeaturesAndService",
                   R"({"entities": {"a": [1]}, "features": ["v:f"], "feature_service": "s"})",
                   "body: give exactly one of \"features\" and \"feature_service\", found both"},
        BadRequest{"FeaturesNotAList", R"({"entities": {"a": [1]}, "features": "v:f"})",
                   "features: expected a list of strings (\"view:feature\"), found a string "
                   "(\"v:f\")"},
        BadRequest{"FeaturesEmpty", R"({"entities": {"a": [1]}, "features": []})",
                   "features: expected a list of strings (\"view:feature\"), found an empty list"},
        BadRequest{"FeatureNotAString", R"({"entities": {"a": [1]}, "features": ["v:f", 7]})",
                   "features[1]: expected a string (\"view:feature\"), found an integer (7)"},
        BadRequest{"FeatureServiceNotAString",
                   R"({"entities": {"a": [1]}, "feature_service": ["s"]})",
                   "feature_service: expected a feature service name, found a list of 1 value"},
        BadRequest{"FeatureServiceEmpty", R"({"entities": {"a": [1]}, "feature_service": ""})",
                   "feature_service: expected a feature service name, found a string (\"\")"},
        BadRequest{"FullFeatureNamesNotABool",
                   absl::StrCat(R"({"full_feature_names": "true", )", kOk, "}"),
                   "full_feature_names: expected a bool, found a string (\"true\")"},
        BadRequest{"ProjectNotAString", absl::StrCat(R"({"project": 3, )", kOk, "}"),
                   "project: expected a string, found an integer (3)"},
        BadRequest{"DeeplyNested",
                   absl::StrCat(R"({"entities": {"a": [)", std::string(100000, '['),
                                std::string(100000, ']'), R"(]}, "features": ["v:f"]})"),
                   "entities.a[0]: expected a single value (number, string, bool or null), "
                   "found a list of 1 value"}),
    [](const ::testing::TestParamInfo<BadRequest>& info) { return info.param.name; });

TEST(OnlineRequestFromJsonTest, LongValuesAreCutInMessages) {
  const std::string long_name(500, 'x');
  absl::StatusOr<GetOnlineFeaturesRequest> parsed = OnlineRequestFromJson(absl::StrCat(
      R"({"entities": {"a": [1]}, "feature_service": 1, "project": ")", long_name, R"("})"));
  EXPECT_THAT(parsed, StatusIs(absl::StatusCode::kInvalidArgument,
                               HasSubstr("feature_service: expected a feature service name")));
  parsed = OnlineRequestFromJson(absl::StrCat(R"({"entities": {"a": [1]}, "features": [")", "v:f",
                                              R"("], "project": [")", long_name, R"("]})"));
  EXPECT_THAT(parsed, StatusIs(absl::StatusCode::kInvalidArgument,
                               HasSubstr("project: expected a string, found a list of 1 value")));
  parsed =
      OnlineRequestFromJson(absl::StrCat(R"({"entities": {"a": [1]}, "features": [")", "v:f",
                                         R"("], "full_feature_names": ")", long_name, R"("})"));
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(std::string(parsed.status().message()), HasSubstr("xxx...)"));
  EXPECT_LT(parsed.status().message().size(), 120u);
}

}  // namespace
}  // namespace granary::feast_json
