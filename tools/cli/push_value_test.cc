#include "tools/cli/push_value.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "libs/testing/status_matchers.h"

namespace granary::cli {
namespace {

using ::granary::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using types::v1::Value;
using types::v1::ValueType;
using json = nlohmann::json;

constexpr int64_t kNow = 1'795'000'000;  // 2026-11-18T11:06:40Z

CellContext At() { return {.now = absl::FromUnixSeconds(kNow)}; }

// The seconds, or -1 for an error.
int64_t TimestampOf(absl::string_view text, CellContext& cx) {
  absl::StatusOr<int64_t> t = ParseTimestamp(text, cx);
  return t.ok() ? *t : -1;
}

TEST(ParseTimestampTest, AcceptsRfc3339SpaceSeparatedUtcAndUnixSeconds) {
  CellContext cx = At();
  EXPECT_EQ(TimestampOf("2026-11-21T10:00:00Z", cx), 1'795'255'200);
  EXPECT_EQ(TimestampOf("2026-11-21T12:00:00+02:00", cx), 1'795'255'200);
  EXPECT_EQ(TimestampOf("2026-11-21T10:00:00.75Z", cx), 1'795'255'200);
  EXPECT_EQ(TimestampOf("2026-11-21 10:00:00", cx), 1'795'255'200);
  EXPECT_EQ(TimestampOf(" 1795255200 ", cx), 1'795'255'200);
  EXPECT_FALSE(cx.used_now);
}

TEST(ParseTimestampTest, NowAndOffsetsFromNow) {
  CellContext cx = At();
  EXPECT_EQ(TimestampOf("now", cx), kNow);
  EXPECT_TRUE(cx.used_now);
  EXPECT_EQ(TimestampOf("now-5m", cx), kNow - 300);
  EXPECT_EQ(TimestampOf("now+1h", cx), kNow + 3600);
  EXPECT_EQ(TimestampOf("now-30s", cx), kNow - 30);
  for (const char* bad : {"now-5", "now-5w", "now5m", "now--5m", "now-m", "tomorrow", "2026-11-21",
                          "2026-11-21T10:00:00"}) {
    EXPECT_THAT(ParseTimestamp(bad, cx), StatusIs(absl::StatusCode::kInvalidArgument,
                                                  HasSubstr("expected a timestamp (RFC 3339")))
        << bad;
  }
}

TEST(TextValueTest, EachTypeFromText) {
  CellContext cx = At();
  EXPECT_EQ(TextValue("-7", ValueType::INT32, cx)->int32_val(), -7);
  EXPECT_EQ(TextValue("9000000000", ValueType::INT64, cx)->int64_val(), 9'000'000'000);
  EXPECT_FLOAT_EQ(TextValue("0.25", ValueType::FLOAT, cx)->float_val(), 0.25f);
  EXPECT_DOUBLE_EQ(TextValue("1e-3", ValueType::DOUBLE, cx)->double_val(), 0.001);
  EXPECT_TRUE(TextValue("true", ValueType::BOOL, cx)->bool_val());
  EXPECT_FALSE(TextValue("False", ValueType::BOOL, cx)->bool_val());
  EXPECT_EQ(TextValue("a,\"b\"", ValueType::STRING, cx)->string_val(), "a,\"b\"");
  EXPECT_EQ(TextValue("raw", ValueType::BYTES, cx)->bytes_val(), "raw");
  EXPECT_EQ(TextValue("now-1h", ValueType::UNIX_TIMESTAMP, cx)->unix_timestamp_val(), kNow - 3600);
  EXPECT_EQ(TextValue("x", ValueType::INVALID, cx)->string_val(), "x");
}

TEST(TextValueTest, BadTextSaysWhatWasExpectedAndFound) {
  CellContext cx = At();
  EXPECT_THAT(TextValue("3000000000", ValueType::INT32, cx),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("expected an INT32 integer, found \"3000000000\"")));
  EXPECT_THAT(TextValue("1.5", ValueType::INT64, cx),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("INT64 integer")));
  EXPECT_THAT(TextValue("fast", ValueType::FLOAT, cx),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("expected a FLOAT number, found \"fast\"")));
  EXPECT_THAT(TextValue("maybe", ValueType::BOOL, cx),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("true or false")));
  EXPECT_THAT(TextValue("1,2", ValueType::INT64_LIST, cx),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("push a JSON file")));
}

TEST(JsonValueTest, NumbersBoolsStringsNullsAndLists) {
  CellContext cx = At();
  EXPECT_EQ(JsonValue(json(1001), ValueType::INT64, cx)->int64_val(), 1001);
  EXPECT_EQ(JsonValue(json("1001"), ValueType::INT64, cx)->int64_val(), 1001);
  EXPECT_FLOAT_EQ(JsonValue(json(1), ValueType::FLOAT, cx)->float_val(), 1.0f);
  EXPECT_DOUBLE_EQ(JsonValue(json(0.5), ValueType::DOUBLE, cx)->double_val(), 0.5);
  EXPECT_TRUE(JsonValue(json(true), ValueType::BOOL, cx)->bool_val());
  EXPECT_EQ(JsonValue(json(1'795'255'200), ValueType::UNIX_TIMESTAMP, cx)->unix_timestamp_val(),
            1'795'255'200);
  EXPECT_EQ(
      JsonValue(json("2026-11-21T10:00:00Z"), ValueType::UNIX_TIMESTAMP, cx)->unix_timestamp_val(),
      1'795'255'200);
  EXPECT_TRUE(JsonValue(json(nullptr), ValueType::INT64, cx)->has_null_val());
  ASSERT_OK_AND_ASSIGN(Value list, JsonValue(json::parse("[0.5, 2]"), ValueType::FLOAT_LIST, cx));
  EXPECT_THAT(list.float_list_val().val(), ElementsAre(0.5f, 2.0f));
  ASSERT_OK_AND_ASSIGN(Value empty, JsonValue(json::array(), ValueType::STRING_LIST, cx));
  EXPECT_TRUE(empty.has_string_list_val());
}

TEST(JsonValueTest, WrongKindsSayWhatWasFound) {
  CellContext cx = At();
  EXPECT_THAT(JsonValue(json(1.5), ValueType::INT64, cx),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("expected an INT64 integer, found a number (1.5)")));
  EXPECT_THAT(JsonValue(json(3'000'000'000), ValueType::INT32, cx),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("INT32")));
  EXPECT_THAT(JsonValue(json(18'446'744'073'709'551'615u), ValueType::INT64, cx),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("INT64")));
  EXPECT_THAT(JsonValue(json(7), ValueType::STRING, cx),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("expected a string, found a number (7)")));
  EXPECT_THAT(JsonValue(json(true), ValueType::INT64, cx),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("found a bool (true)")));
  EXPECT_THAT(JsonValue(json::parse("[1, null]"), ValueType::INT64_LIST, cx),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(JsonValue(json::object(), ValueType::INT64, cx),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("found an object")));
}

TEST(GuessTypeTest, TheNarrowestTypeEveryCellFits) {
  CellContext cx = At();
  using Cells = std::vector<std::string>;
  EXPECT_EQ(GuessType(Cells{"1", "", "-2"}, cx), ValueType::INT64);
  EXPECT_EQ(GuessType(Cells{"1", "0.5"}, cx), ValueType::DOUBLE);
  EXPECT_EQ(GuessType(Cells{"true", "false"}, cx), ValueType::BOOL);
  EXPECT_EQ(GuessType(Cells{"2026-11-21T10:00:00Z", "now"}, cx), ValueType::UNIX_TIMESTAMP);
  EXPECT_EQ(GuessType(Cells{"1", "x"}, cx), ValueType::STRING);
  std::vector<json> cells = {json(1), json(nullptr), json(2.5)};
  EXPECT_EQ(GuessType(cells, cx), ValueType::DOUBLE);
}

}  // namespace
}  // namespace granary::cli
