#include "libs/feast_json/value_json.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "libs/testing/status_matchers.h"

namespace granary::feast_json {
namespace {

using ::granary::testing::StatusIs;
using nlohmann::json;
using ::testing::HasSubstr;
using types::v1::Value;

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();

// What a client receives: the JSON text.
// The text sent on the wire, not a re-print of it.
std::string Text(const Value& value) { return ValueJson(value); }
json Parsed(const Value& value) { return json::parse(ValueJson(value)); }

TEST(ValueJsonTest, Int32IsAnInteger) {
  Value v;
  v.set_int32_val(-7);
  EXPECT_TRUE(Parsed(v).is_number_integer());
  EXPECT_EQ(Text(v), "-7");
  v.set_int32_val(std::numeric_limits<int32_t>::min());
  EXPECT_EQ(Text(v), "-2147483648");
}

TEST(ValueJsonTest, Int64ExtremesAreExact) {
  Value v;
  v.set_int64_val(kInt64Max);
  EXPECT_EQ(Text(v), "9223372036854775807");
  EXPECT_EQ(Parsed(v).get<int64_t>(), kInt64Max);
  v.set_int64_val(kInt64Min);
  EXPECT_EQ(Text(v), "-9223372036854775808");
  // 2^53 + 1 is the first integer a double cannot hold.
  v.set_int64_val(9007199254740993);
  EXPECT_EQ(Text(v), "9007199254740993");
}

TEST(ValueJsonTest, UnixTimestampIsIntegerSeconds) {
  Value v;
  v.set_unix_timestamp_val(1618225182);
  EXPECT_EQ(Text(v), "1618225182");
  v.set_unix_timestamp_val(kInt64Max);
  EXPECT_EQ(Text(v), "9223372036854775807");
}

TEST(ValueJsonTest, DoubleIsANumber) {
  Value v;
  v.set_double_val(1.5);
  EXPECT_TRUE(Parsed(v).is_number_float());
  EXPECT_EQ(Text(v), "1.5");
  v.set_double_val(0.1);
  EXPECT_EQ(Text(v), "0.1");
  v.set_double_val(-2.5e-300);
  EXPECT_EQ(Parsed(v).get<double>(), -2.5e-300);
}

TEST(ValueJsonTest, FloatPrintsItsShortestDecimal) {
  Value v;
  v.set_float_val(0.1f);
  EXPECT_EQ(Text(v), "0.1");
  v.set_float_val(0.7f);
  EXPECT_EQ(Text(v), "0.7");
  v.set_float_val(std::numeric_limits<float>::max());
  // Whatever the digits, reading them back as a float gives the same float.
  EXPECT_EQ(static_cast<float>(json::parse(Text(v)).get<double>()),
            std::numeric_limits<float>::max());
}

TEST(ValueJsonTest, NonFiniteNumbersAreStrings) {
  Value v;
  v.set_double_val(std::nan(""));
  EXPECT_EQ(Text(v), R"("NaN")");
  v.set_double_val(std::numeric_limits<double>::infinity());
  EXPECT_EQ(Text(v), R"("Infinity")");
  v.set_double_val(-std::numeric_limits<double>::infinity());
  EXPECT_EQ(Text(v), R"("-Infinity")");
  v.set_float_val(std::nanf(""));
  EXPECT_EQ(Text(v), R"("NaN")");
  v.set_float_val(std::numeric_limits<float>::infinity());
  EXPECT_EQ(Text(v), R"("Infinity")");
  v.set_float_val(-std::numeric_limits<float>::infinity());
  EXPECT_EQ(Text(v), R"("-Infinity")");
}

TEST(ValueJsonTest, Bool) {
  Value v;
  v.set_bool_val(true);
  EXPECT_EQ(Text(v), "true");
  v.set_bool_val(false);
  EXPECT_EQ(Text(v), "false");
}

TEST(ValueJsonTest, StringIsEscapedText) {
  Value v;
  v.set_string_val("Z\xC3\xBCrich \"HQ\"");
  EXPECT_EQ(Parsed(v).get<std::string>(), "Z\xC3\xBCrich \"HQ\"");
  EXPECT_EQ(Text(v), "\"Z\xC3\xBCrich \\\"HQ\\\"\"");
}

TEST(ValueJsonTest, IllFormedUtf8StringIsRepairedNotThrown) {
  Value v;
  v.set_string_val(
      std::string("a\xFF"
                  "b",
                  3));
  EXPECT_EQ(Parsed(v).get<std::string>(),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(Text(v),
            "\"a\xEF\xBF\xBD"
            "b\"");
}

TEST(ValueJsonTest, BytesArePaddedStandardBase64) {
  Value v;
  v.set_bytes_val(std::string("\x00\xff\xfe", 3));
  EXPECT_EQ(Text(v), R"("AP/+")");  // '+' and '/': the standard alphabet, not the URL one.
  v.set_bytes_val("ab");
  EXPECT_EQ(Text(v), R"("YWI=")");
  v.set_bytes_val("a");
  EXPECT_EQ(Text(v), R"("YQ==")");
  v.set_bytes_val("");
  EXPECT_EQ(Text(v), R"("")");
}

TEST(ValueJsonTest, NullAndUnsetAreNull) {
  Value unset;
  EXPECT_TRUE(Parsed(unset).is_null());
  EXPECT_EQ(Text(unset), "null");
  Value null;
  null.set_null_val(types::v1::NULL_);
  EXPECT_EQ(Text(null), "null");
}

TEST(ValueJsonTest, ScalarListsAreArrays) {
  Value v;
  v.mutable_int32_list_val()->add_val(1);
  v.mutable_int32_list_val()->add_val(-2);
  EXPECT_EQ(Text(v), "[1,-2]");

  v.mutable_int64_list_val()->add_val(kInt64Max);
  v.mutable_int64_list_val()->add_val(kInt64Min);
  EXPECT_EQ(Text(v), "[9223372036854775807,-9223372036854775808]");

  v.mutable_unix_timestamp_list_val()->add_val(1618225182);
  EXPECT_EQ(Text(v), "[1618225182]");

  v.mutable_double_list_val()->add_val(0.25);
  v.mutable_double_list_val()->add_val(std::nan(""));
  v.mutable_double_list_val()->add_val(-std::numeric_limits<double>::infinity());
  EXPECT_EQ(Text(v), R"([0.25,"NaN","-Infinity"])");

  v.mutable_float_list_val()->add_val(0.1f);
  v.mutable_float_list_val()->add_val(std::numeric_limits<float>::infinity());
  EXPECT_EQ(Text(v), R"([0.1,"Infinity"])");

  v.mutable_bool_list_val()->add_val(true);
  v.mutable_bool_list_val()->add_val(false);
  EXPECT_EQ(Text(v), "[true,false]");
}

TEST(ValueJsonTest, TextListsAreArrays) {
  Value v;
  v.mutable_string_list_val()->add_val("a");
  v.mutable_string_list_val()->add_val("");
  v.mutable_string_list_val()->add_val("\xC0\x80");  // An overlong NUL: ill-formed.
  EXPECT_EQ(Text(v), "[\"a\",\"\",\"\xEF\xBF\xBD\xEF\xBF\xBD\"]");

  v.mutable_bytes_list_val()->add_val("ab");
  v.mutable_bytes_list_val()->add_val(std::string("\0", 1));
  EXPECT_EQ(Text(v), R"(["YWI=","AA=="])");
}

TEST(ValueJsonTest, EmptyListIsAnEmptyArray) {
  Value v;
  v.mutable_int64_list_val();
  EXPECT_EQ(Text(v), "[]");
  v.mutable_string_list_val();
  EXPECT_EQ(Text(v), "[]");
}

TEST(ValueFromJsonTest, IntegerIsInt64) {
  ASSERT_OK_AND_ASSIGN(Value v, ValueFromJson(json::parse("1001")));
  ASSERT_EQ(v.val_case(), Value::kInt64Val);
  EXPECT_EQ(v.int64_val(), 1001);
  ASSERT_OK_AND_ASSIGN(v, ValueFromJson(json::parse("-5")));
  ASSERT_EQ(v.val_case(), Value::kInt64Val);
  EXPECT_EQ(v.int64_val(), -5);
}

TEST(ValueFromJsonTest, Int64ExtremesAreExact) {
  ASSERT_OK_AND_ASSIGN(Value v, ValueFromJson(json::parse("9223372036854775807")));
  ASSERT_EQ(v.val_case(), Value::kInt64Val);
  EXPECT_EQ(v.int64_val(), kInt64Max);
  ASSERT_OK_AND_ASSIGN(v, ValueFromJson(json::parse("-9223372036854775808")));
  ASSERT_EQ(v.val_case(), Value::kInt64Val);
  EXPECT_EQ(v.int64_val(), kInt64Min);
}

TEST(ValueFromJsonTest, IntegerPastInt64IsRejected) {
  EXPECT_THAT(ValueFromJson(json::parse("9223372036854775808")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("integer 9223372036854775808 is outside the int64 range")));
}

TEST(ValueFromJsonTest, NonIntegerNumberIsDouble) {
  ASSERT_OK_AND_ASSIGN(Value v, ValueFromJson(json::parse("2.5")));
  ASSERT_EQ(v.val_case(), Value::kDoubleVal);
  EXPECT_EQ(v.double_val(), 2.5);
  // Written with a fraction or exponent: the sender meant a floating-point number.
  ASSERT_OK_AND_ASSIGN(v, ValueFromJson(json::parse("3.0")));
  ASSERT_EQ(v.val_case(), Value::kDoubleVal);
  EXPECT_EQ(v.double_val(), 3.0);
  ASSERT_OK_AND_ASSIGN(v, ValueFromJson(json::parse("1e3")));
  ASSERT_EQ(v.val_case(), Value::kDoubleVal);
  EXPECT_EQ(v.double_val(), 1000.0);
}

TEST(ValueFromJsonTest, StringBoolAndNull) {
  ASSERT_OK_AND_ASSIGN(Value v, ValueFromJson(json::parse(R"("driver_1")")));
  ASSERT_EQ(v.val_case(), Value::kStringVal);
  EXPECT_EQ(v.string_val(), "driver_1");
  ASSERT_OK_AND_ASSIGN(v, ValueFromJson(json::parse("true")));
  ASSERT_EQ(v.val_case(), Value::kBoolVal);
  EXPECT_TRUE(v.bool_val());
  ASSERT_OK_AND_ASSIGN(v, ValueFromJson(json::parse("false")));
  ASSERT_EQ(v.val_case(), Value::kBoolVal);
  EXPECT_FALSE(v.bool_val());
  ASSERT_OK_AND_ASSIGN(v, ValueFromJson(json::parse("null")));
  EXPECT_EQ(v.val_case(), Value::kNullVal);
}

TEST(ValueFromJsonTest, ListIsRejectedSayingWhatWasFound) {
  EXPECT_THAT(ValueFromJson(json::parse("[1, 2]")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("expected a single value (number, string, bool or null), "
                                 "found a list of 2 values")));
}

TEST(ValueFromJsonTest, ObjectIsRejectedSayingWhatWasFound) {
  EXPECT_THAT(
      ValueFromJson(json::parse(R"({"a": 1})")),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("found an object with 1 key")));
}

TEST(ValueFromJsonTest, ScalarsRoundTripThroughJsonText) {
  for (const char* text :
       {"0", "9223372036854775807", "-9223372036854775808", "0.5", "\"x\"", "true", "null"}) {
    ASSERT_OK_AND_ASSIGN(Value v, ValueFromJson(json::parse(text)));
    EXPECT_EQ(Text(v), text);
  }
}

}  // namespace
}  // namespace granary::feast_json
