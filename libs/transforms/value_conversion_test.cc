#include "libs/transforms/value_conversion.h"

#include "gtest/gtest.h"

#include "libs/testing/status_matchers.h"

namespace granary::transforms {
namespace {

using ::granary::testing::StatusIs;
using ::testing::HasSubstr;
using types::v1::Value;
using types::v1::ValueType;

TEST(ConvertibleTest, IntegersToNumbersFloatsToFloatsOtherwiseTheSameType) {
  EXPECT_TRUE(Convertible(ValueType::INT64, ValueType::DOUBLE));
  EXPECT_TRUE(Convertible(ValueType::INT32, ValueType::FLOAT));
  EXPECT_TRUE(Convertible(ValueType::INT64, ValueType::INT32));
  EXPECT_TRUE(Convertible(ValueType::FLOAT, ValueType::DOUBLE));
  EXPECT_TRUE(Convertible(ValueType::STRING, ValueType::STRING));
  EXPECT_FALSE(Convertible(ValueType::DOUBLE, ValueType::INT64));
  EXPECT_FALSE(Convertible(ValueType::STRING, ValueType::INT64));
  EXPECT_FALSE(Convertible(ValueType::BOOL, ValueType::INT32));
  EXPECT_FALSE(Convertible(ValueType::INT64_LIST, ValueType::DOUBLE_LIST));
}

TEST(ConvertValueTest, TakesAValueAsTheDeclaredType) {
  Value three;
  three.set_int64_val(3);
  ASSERT_OK_AND_ASSIGN(Value d, ConvertValue(three, ValueType::DOUBLE));
  EXPECT_EQ(d.val_case(), Value::kDoubleVal);
  EXPECT_EQ(d.double_val(), 3.0);
  ASSERT_OK_AND_ASSIGN(Value i, ConvertValue(three, ValueType::INT32));
  EXPECT_EQ(i.int32_val(), 3);
  Value half;
  half.set_float_val(0.5f);
  ASSERT_OK_AND_ASSIGN(Value h, ConvertValue(half, ValueType::DOUBLE));
  EXPECT_EQ(h.double_val(), 0.5);
  Value null;
  null.set_null_val(types::v1::NULL_);
  ASSERT_OK_AND_ASSIGN(Value n, ConvertValue(null, ValueType::INT64));
  EXPECT_TRUE(n.has_null_val());
}

TEST(ConvertValueTest, RefusesWhatDoesNotFit) {
  Value big;
  big.set_int64_val(int64_t{1} << 40);
  EXPECT_THAT(ConvertValue(big, ValueType::INT32),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("out of INT32's range")));
  Value text;
  text.set_string_val("3");
  EXPECT_THAT(
      ConvertValue(text, ValueType::INT64),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("a string_val value, want INT64")));
  Value huge;
  huge.set_double_val(1e300);
  EXPECT_THAT(ConvertValue(huge, ValueType::FLOAT),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("out of FLOAT's range")));
  Value fraction;
  fraction.set_double_val(2.5);
  EXPECT_THAT(ConvertValue(fraction, ValueType::INT64),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace granary::transforms
