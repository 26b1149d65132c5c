// Golden vectors from Feast's serialization (see FACTS and Feast's own tests), so that a Redis
// written by either is read by the other.
#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "libs/keys/entity_key.h"
#include "libs/keys/hash_field.h"
#include "libs/testing/status_matchers.h"
#include "libs/testing/values.h"

namespace granary::keys {
namespace {

using ::granary::testing::Int32;
using ::granary::testing::Int64;
using ::granary::testing::StatusIs;
using ::granary::testing::Str;
using types::v1::Value;

std::string Hex(const std::string& bytes) { return absl::BytesToHexString(bytes); }

TEST(EntityKeyTest, FeastGoldenVectorOneInt64Key) {
  ASSERT_OK_AND_ASSIGN(std::string key, RedisKey({{"driver_id", Int64(1001)}}, "feature_repo"));
  EXPECT_EQ(Hex(key),
            "01000000"
            "02000000"
            "09000000"
            "6472697665725f6964"
            "04000000"
            "08000000"
            "e903000000000000"
            "666561747572655f7265706f");
}

TEST(EntityKeyTest, FeastGoldenVectorTwoKeysSortedWithDifferentTypes) {
  // Given out of order: the key sorts the join keys.
  ASSERT_OK_AND_ASSIGN(std::string key,
                       RedisKey({{"user_id", Str("u1")}, {"item_id", Int32(7)}}, "p"));
  EXPECT_EQ(Hex(key),
            "02000000"
            "02000000"
            "07000000"
            "6974656d5f6964"
            "02000000"
            "07000000"
            "757365725f6964"
            "03000000"
            "04000000"
            "07000000"
            "02000000"
            "02000000"
            "7531"
            "70");
}

TEST(EntityKeyTest, PrefixValuesAndProjectMakeTheSameKey) {
  std::string key = JoinKeysPrefix({"item_id", "user_id"});
  ASSERT_OK(AppendKeyValue(Int32(7), &key));
  ASSERT_OK(AppendKeyValue(Str("u1"), &key));
  key += "p";
  ASSERT_OK_AND_ASSIGN(std::string expected,
                       RedisKey({{"user_id", Str("u1")}, {"item_id", Int32(7)}}, "p"));
  EXPECT_EQ(Hex(key), Hex(expected));
}

TEST(EntityKeyTest, Int32AndInt64AreDifferentEntities) {
  ASSERT_OK_AND_ASSIGN(std::string a, SerializeEntityKey({{"id", Int32(5)}}));
  ASSERT_OK_AND_ASSIGN(std::string b, SerializeEntityKey({{"id", Int64(5)}}));
  EXPECT_NE(a, b);
}

TEST(EntityKeyTest, BytesTimestampsNegativesAndTheDummyKey) {
  Value bytes;
  bytes.set_bytes_val(std::string("\x00\xff", 2));
  ASSERT_OK_AND_ASSIGN(std::string b, SerializeEntityKey({{"k", bytes}}));
  EXPECT_EQ(Hex(b),
            "01000000"
            "02000000"
            "01000000"
            "6b"
            "01000000"
            "02000000"
            "00ff");
  Value ts;
  ts.set_unix_timestamp_val(1);
  ASSERT_OK_AND_ASSIGN(std::string t, SerializeEntityKey({{"k", ts}}));
  EXPECT_EQ(Hex(t).substr(26),
            "08000000"
            "08000000"
            "0100000000000000");
  ASSERT_OK_AND_ASSIGN(std::string n, SerializeEntityKey({{"k", Int64(-1)}}));
  EXPECT_EQ(Hex(n).substr(26),
            "04000000"
            "08000000"
            "ffffffffffffffff");
  ASSERT_OK_AND_ASSIGN(std::string dummy, SerializeEntityKey({{kDummyJoinKey, Str("")}}));
  EXPECT_EQ(Hex(dummy),
            "01000000"
            "02000000"
            "0a000000"
            "5f5f64756d6d795f6964"
            "02000000"
            "00000000");
}

TEST(EntityKeyTest, NonKeyTypesAreRefused) {
  Value f;
  f.set_float_val(1.5);
  EXPECT_THAT(SerializeEntityKey({{"k", f}}),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("FLOAT")));
  EXPECT_THAT(SerializeEntityKey({{"k", Value()}}), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(EntityKeyTest, KeyValuesAreCoercedOnlyWhenTheNumberIsTheSame) {
  types::v1::Value scratch;
  types::v1::Value i32;
  i32.set_int32_val(7);
  const types::v1::Value* as64 = CoerceKeyValue(i32, types::v1::ValueType::INT64, &scratch);
  ASSERT_EQ(as64, &scratch);
  EXPECT_EQ(as64->int64_val(), 7);
  types::v1::Value big;
  big.set_int64_val(int64_t{1} << 40);
  EXPECT_EQ(CoerceKeyValue(big, types::v1::ValueType::INT32, &scratch), nullptr);
  types::v1::Value small;
  small.set_int64_val(-5);
  ASSERT_NE(CoerceKeyValue(small, types::v1::ValueType::INT32, &scratch), nullptr);
  EXPECT_EQ(scratch.int32_val(), -5);
  EXPECT_EQ(CoerceKeyValue(small, types::v1::ValueType::INT64, &scratch), &small);
  types::v1::Value text;
  text.set_string_val("7");
  EXPECT_EQ(CoerceKeyValue(text, types::v1::ValueType::INT64, &scratch), nullptr);
}

TEST(EntityKeyTest, TheProjectOfAKeyIsWhatFollowsItsEntityKeyExactly) {
  ASSERT_OK_AND_ASSIGN(std::string shop, RedisKey({{"driver_id", Int64(7)}}, "shop"));
  ASSERT_OK_AND_ASSIGN(std::string workshop, RedisKey({{"driver_id", Int64(7)}}, "workshop"));
  ASSERT_OK_AND_ASSIGN(std::string two,
                       RedisKey({{"user_id", Str("u1")}, {"item_id", Int32(7)}}, "p"));
  ASSERT_OK_AND_ASSIGN(std::string dummy, RedisKey({{kDummyJoinKey, Str("")}}, "shop"));
  ASSERT_OK_AND_ASSIGN(absl::string_view of_shop, ProjectOfKey(shop));
  EXPECT_EQ(of_shop, "shop");
  ASSERT_OK_AND_ASSIGN(absl::string_view of_workshop, ProjectOfKey(workshop));
  EXPECT_EQ(of_workshop, "workshop");
  ASSERT_OK_AND_ASSIGN(absl::string_view of_two, ProjectOfKey(two));
  EXPECT_EQ(of_two, "p");
  ASSERT_OK_AND_ASSIGN(absl::string_view of_dummy, ProjectOfKey(dummy));
  EXPECT_EQ(of_dummy, "shop");
  // Not Feast keys: plain strings, a truncated key, a value of a non-key type.
  EXPECT_THAT(ProjectOfKey("workshop"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ProjectOfKey(shop.substr(0, 20)), StatusIs(absl::StatusCode::kInvalidArgument));
  std::string bad = shop;
  bad[4 + 4 + 4 + 9] = 5;  // the value's type: DOUBLE
  EXPECT_THAT(ProjectOfKey(bad), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(HashFieldTest, FeastGoldenVectors) {
  EXPECT_EQ(Murmur3("hello"), 0x248bfa47u);
  EXPECT_EQ(Hex(FeatureField("driver_hourly_stats", "conv_rate")), "6160e3da");
  EXPECT_EQ(Hex(FeatureField("driver_hourly_stats", "acc_rate")), "fa5e58ad");
  EXPECT_EQ(Hex(FeatureField("driver_hourly_stats", "avg_daily_trips")), "18a5e5a3");
  EXPECT_EQ(TimestampField("driver_hourly_stats"), "_ts:driver_hourly_stats");
  EXPECT_EQ(CreatedField("driver_hourly_stats"), "_created:driver_hourly_stats");
  EXPECT_EQ(TimestampField("driver_hourly_stats"), "_ts:driver_hourly_stats");
}

TEST(HashFieldTest, AFailedValueIsAValueWithNothingSetToOtherReaders) {
  types::v1::Value value;
  ASSERT_TRUE(value.ParseFromString(std::string(FailedValue())));
  EXPECT_EQ(value.val_case(), types::v1::Value::VAL_NOT_SET);
  // Not what a value, even an empty or null one, is stored as.
  types::v1::Value null;
  null.set_null_val(types::v1::NULL_);
  EXPECT_NE(FailedValue(), null.SerializeAsString());
  EXPECT_NE(FailedValue(), "");
}

}  // namespace
}  // namespace granary::keys
