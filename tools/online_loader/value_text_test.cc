#include "tools/online_loader/value_text.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "libs/testing/status_matchers.h"

namespace granary::online_loader {
namespace {

using ::granary::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using types::v1::Value;
using types::v1::ValueType;

TEST(ValueTextTest, ScalarsTakeTheDeclaredType) {
  ASSERT_OK_AND_ASSIGN(Value i64, ParseValue(ValueType::INT64, "1001"));
  EXPECT_EQ(i64.int64_val(), 1001);
  ASSERT_OK_AND_ASSIGN(Value i32, ParseValue(ValueType::INT32, "-7"));
  EXPECT_EQ(i32.int32_val(), -7);
  ASSERT_OK_AND_ASSIGN(Value f, ParseValue(ValueType::FLOAT, "0.91"));
  EXPECT_FLOAT_EQ(f.float_val(), 0.91f);
  ASSERT_OK_AND_ASSIGN(Value d, ParseValue(ValueType::DOUBLE, "3"));
  EXPECT_EQ(d.val_case(), Value::kDoubleVal);
  EXPECT_DOUBLE_EQ(d.double_val(), 3.0);
  ASSERT_OK_AND_ASSIGN(Value s, ParseValue(ValueType::STRING, "Alice"));
  EXPECT_EQ(s.string_val(), "Alice");
  ASSERT_OK_AND_ASSIGN(Value b, ParseValue(ValueType::BYTES, "raw"));
  EXPECT_EQ(b.bytes_val(), "raw");
  ASSERT_OK_AND_ASSIGN(Value t, ParseValue(ValueType::BOOL, "true"));
  EXPECT_EQ(t.val_case(), Value::kBoolVal);
  EXPECT_TRUE(t.bool_val());
  ASSERT_OK_AND_ASSIGN(Value no, ParseValue(ValueType::BOOL, "False"));
  EXPECT_EQ(no.val_case(), Value::kBoolVal);
  EXPECT_FALSE(no.bool_val());
}

TEST(ValueTextTest, TimestampsAreSecondsOrRfc3339) {
  ASSERT_OK_AND_ASSIGN(Value seconds, ParseValue(ValueType::UNIX_TIMESTAMP, "1700000000"));
  EXPECT_EQ(seconds.unix_timestamp_val(), 1700000000);
  ASSERT_OK_AND_ASSIGN(Value rfc, ParseValue(ValueType::UNIX_TIMESTAMP, "2024-05-01T12:00:00Z"));
  EXPECT_EQ(rfc.unix_timestamp_val(), 1714564800);
  EXPECT_THAT(ParseValue(ValueType::UNIX_TIMESTAMP, "yesterday"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("RFC 3339")));
}

TEST(ValueTextTest, MismatchesNameTheTypeAndQuoteTheText) {
  EXPECT_THAT(ParseValue(ValueType::INT64, "fast"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("expected an INT64 (a whole number), got \"fast\"")));
  EXPECT_THAT(ParseValue(ValueType::INT64, "0.5"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseValue(ValueType::INT32, "3000000000"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("INT32")));
  EXPECT_THAT(ParseValue(ValueType::FLOAT, "high"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("a FLOAT (a number)")));
  EXPECT_THAT(ParseValue(ValueType::BOOL, "yes"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("true or false")));
  EXPECT_THAT(ParseValue(ValueType::INT64_LIST, "1"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("a list")));
  EXPECT_THAT(ParseValue(ValueType::NULL_, "x"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ValueTextTest, ListsTakeTheElementType) {
  ASSERT_OK_AND_ASSIGN(Value ints, ParseListValue(ValueType::INT64_LIST, {"1", "2", "3"}));
  EXPECT_THAT(ints.int64_list_val().val(), ElementsAre(1, 2, 3));
  ASSERT_OK_AND_ASSIGN(Value strings, ParseListValue(ValueType::STRING_LIST, {"a", "b"}));
  EXPECT_THAT(strings.string_list_val().val(), ElementsAre("a", "b"));
  ASSERT_OK_AND_ASSIGN(Value empty, ParseListValue(ValueType::FLOAT_LIST, {}));
  EXPECT_EQ(empty.val_case(), Value::kFloatListVal);
  EXPECT_THAT(ParseListValue(ValueType::INT32_LIST, {"1", "two"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("item 1: expected an INT32")));
  EXPECT_THAT(ParseListValue(ValueType::INT64, {"1"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("got a list")));
}

}  // namespace
}  // namespace granary::online_loader
