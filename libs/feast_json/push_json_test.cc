#include "libs/feast_json/push_json.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "libs/testing/status_matchers.h"

namespace granary::feast_json {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;
using types::v1::ValueType;

TEST(PushJsonTest, ValuesTakeTheDeclaredType) {
  ASSERT_OK_AND_ASSIGN(auto f, TypedValueFromJson(json(0.5), ValueType::FLOAT));
  EXPECT_EQ(f.float_val(), 0.5f);
  ASSERT_OK_AND_ASSIGN(auto i32, TypedValueFromJson(json(7), ValueType::INT32));
  EXPECT_EQ(i32.int32_val(), 7);
  ASSERT_OK_AND_ASSIGN(auto i64, TypedValueFromJson(json(3.0), ValueType::INT64));
  EXPECT_EQ(i64.int64_val(), 3);  // pandas writes integers as 3.0
  ASSERT_OK_AND_ASSIGN(auto ts,
                       TypedValueFromJson(json("2021-04-12T10:59:42Z"), ValueType::UNIX_TIMESTAMP));
  EXPECT_EQ(ts.unix_timestamp_val(), 1618225182);
  ASSERT_OK_AND_ASSIGN(auto list, TypedValueFromJson(json({1, 2.5}), ValueType::FLOAT_LIST));
  EXPECT_THAT(list.float_list_val().val(), ::testing::ElementsAre(1.0f, 2.5f));
  ASSERT_OK_AND_ASSIGN(auto null, TypedValueFromJson(json(nullptr), ValueType::DOUBLE));
  EXPECT_TRUE(null.has_null_val());
  ASSERT_OK_AND_ASSIGN(auto bytes, TypedValueFromJson(json("aGk="), ValueType::BYTES));
  EXPECT_EQ(bytes.bytes_val(), "hi");
}

TEST(PushJsonTest, WrongKindsSayWhatWasFound) {
  EXPECT_THAT(TypedValueFromJson(json("high"), ValueType::DOUBLE).status().message(),
              HasSubstr("expected a number"));
  EXPECT_THAT(TypedValueFromJson(json(1.5), ValueType::INT64).status().message(),
              HasSubstr("expected an integer"));
  EXPECT_THAT(TypedValueFromJson(json(1LL << 40), ValueType::INT32).status().message(),
              HasSubstr("int32 range"));
  EXPECT_THAT(TypedValueFromJson(json({1, "x"}), ValueType::INT64_LIST).status().message(),
              HasSubstr("[1]"));
  EXPECT_THAT(TypedValueFromJson(json(1), ValueType::BOOL).status().message(),
              HasSubstr("true or false"));
}

TEST(PushJsonTest, TimesAsFeastClientsWriteThem) {
  const absl::Time t = absl::FromUnixSeconds(1652439582);  // 2022-05-13 10:59:42 UTC
  EXPECT_EQ(ParseFeastTime("2022-05-13T10:59:42Z"), t);
  EXPECT_EQ(ParseFeastTime("2022-05-13T12:59:42+02:00"), t);
  EXPECT_EQ(ParseFeastTime("2022-05-13 10:59:42"), t);
  EXPECT_EQ(ParseFeastTime("2022-05-13T10:59:42"), t);
  EXPECT_EQ(ParseFeastTime("2022-05-13T10:59:42.250000"), t + absl::Milliseconds(250));
  EXPECT_EQ(ParseFeastTime("2022-05-13"), absl::FromUnixSeconds(1652400000));
  EXPECT_EQ(ParseFeastTime("yesterday"), std::nullopt);
  EXPECT_EQ(ParseFeastTime(""), std::nullopt);
}

TEST(PushJsonTest, BodiesAreCheckedFieldByField) {
  EXPECT_THAT(ParsePushBody("{nope", "push").status().message(), HasSubstr("body: not JSON"));
  EXPECT_THAT(ParsePushBody(R"({"df": {}})", "push").status().message(),
              HasSubstr("push_source_name: required"));
  EXPECT_THAT(ParsePushBody(R"({"push_source_name": "s"})", "push").status().message(),
              HasSubstr("df: required"));
  EXPECT_THAT(ParsePushBody(R"({"push_source_name": "s", "df": {}, "to": "disk"})", "push")
                  .status()
                  .message(),
              HasSubstr("to: expected"));
  EXPECT_THAT(
      ParsePushBody(R"({"push_source_name": "s", "df": {}, "x": 1})", "push").status().message(),
      HasSubstr("unknown field \"x\""));
  EXPECT_THAT(ParsePushBody(R"({"feature_view_name": "v", "df": {}})", "push").status().message(),
              HasSubstr("unknown field"));
  ASSERT_OK_AND_ASSIGN(PushBody body, ParsePushBody(R"({"push_source_name": "s", "df": {"a": [1]},
                                        "to": "online_and_offline", "feature_service": null})",
                                                    "push"));
  EXPECT_EQ(body.to, ingestion::v1::ONLINE_AND_OFFLINE);
  ASSERT_OK_AND_ASSIGN(PushBody write, ParsePushBody(R"({"feature_view_name": "v", "df": {"a": [1]},
                                        "allow_registry_cache": true})",
                                                     "write-to-online-store"));
  EXPECT_EQ(write.feature_view_name, "v");
}

TEST(PushJsonTest, ColumnsAreTypedAndMustBeOfOneLength) {
  ColumnTypes types = [](const std::string& column) -> std::optional<ValueType::Enum> {
    if (column == "conv_rate") return ValueType::FLOAT;
    if (column == "driver_id") return ValueType::INT64;
    return std::nullopt;
  };
  ingestion::v1::PushRequest request;
  ASSERT_OK(FillPushColumns(json::parse(R"({"driver_id": [1, 2], "conv_rate": [0.5, null],
                                            "event_timestamp": ["2022-05-13 10:59:42", 7]})"),
                            types, &request));
  EXPECT_EQ(request.columns().at("conv_rate").val(0).float_val(), 0.5f);
  EXPECT_TRUE(request.columns().at("conv_rate").val(1).has_null_val());
  EXPECT_EQ(request.columns().at("driver_id").val(1).int64_val(), 2);
  // An untyped column keeps JSON's kinds (ingestion reads the timestamp string itself).
  EXPECT_EQ(request.columns().at("event_timestamp").val(0).string_val(), "2022-05-13 10:59:42");

  ingestion::v1::PushRequest uneven;
  EXPECT_THAT(
      FillPushColumns(json::parse(R"({"driver_id": [1, 2], "conv_rate": [0.5]})"), types, &uneven)
          .message(),
      HasSubstr("df.driver_id: 2 values where the other columns have 1"));
  ingestion::v1::PushRequest bad_cell;
  EXPECT_THAT(
      FillPushColumns(json::parse(R"({"conv_rate": [0.5, "x"]})"), types, &bad_cell).message(),
      HasSubstr("df.conv_rate[1]: expected a number"));
}

}  // namespace
}  // namespace granary::feast_json
