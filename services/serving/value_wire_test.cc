#include "services/serving/value_wire.h"

#include "google/protobuf/timestamp.pb.h"
#include "granary/types/v1/value.pb.h"
#include "gtest/gtest.h"

namespace granary::serving {
namespace {

using types::v1::Value;

std::string Bytes(const Value& v) { return v.SerializeAsString(); }

TEST(InspectValueTest, EveryKindOfValueIsPresent) {
  Value v;
  v.set_int64_val(-5);
  EXPECT_EQ(InspectValue(Bytes(v)), ValueState::kPresent);
  v.set_double_val(0.25);
  EXPECT_EQ(InspectValue(Bytes(v)), ValueState::kPresent);
  v.set_float_val(1.5f);
  EXPECT_EQ(InspectValue(Bytes(v)), ValueState::kPresent);
  v.set_bool_val(false);  // a false is a value, not a null
  EXPECT_EQ(InspectValue(Bytes(v)), ValueState::kPresent);
  v.set_string_val("héllo");
  EXPECT_EQ(InspectValue(Bytes(v)), ValueState::kPresent);
  v.set_bytes_val(std::string("\xff\x00", 2));
  EXPECT_EQ(InspectValue(Bytes(v)), ValueState::kPresent);
  v.mutable_string_list_val()->add_val("a");
  EXPECT_EQ(InspectValue(Bytes(v)), ValueState::kPresent);
  v.mutable_double_list_val()->add_val(1);
  EXPECT_EQ(InspectValue(Bytes(v)), ValueState::kPresent);
  v.set_int32_val(0);
  EXPECT_EQ(InspectValue(Bytes(v)), ValueState::kPresent);
}

TEST(InspectValueTest, NullsAndEmptyValues) {
  EXPECT_EQ(InspectValue(""), ValueState::kNull);
  Value v;
  v.set_null_val(types::v1::NULL_);
  EXPECT_EQ(InspectValue(Bytes(v)), ValueState::kNull);
}

TEST(InspectValueTest, MalformedBytesAreCorrupt) {
  EXPECT_EQ(InspectValue(std::string("\x00", 1)), ValueState::kCorrupt);  // field 0
  EXPECT_EQ(InspectValue("\x20"), ValueState::kCorrupt);                  // varint cut short
  EXPECT_EQ(InspectValue("\x12\x05"
                         "ab"),
            ValueState::kCorrupt);                                // length past the end
  EXPECT_EQ(InspectValue("\x29\x01\x02"), ValueState::kCorrupt);  // double cut short
  EXPECT_EQ(InspectValue("\x12\x01"), ValueState::kCorrupt);
  EXPECT_EQ(InspectValue("\x18\x01\x13"), ValueState::kCorrupt);      // a group
  EXPECT_EQ(InspectValue("\x2a\x01x"), ValueState::kCorrupt);         // double as bytes
  EXPECT_EQ(InspectValue("\x12\x02\xc3\x28"), ValueState::kCorrupt);  // invalid UTF-8
  EXPECT_EQ(InspectValue("{\"json\": 1}"), ValueState::kCorrupt);
}

TEST(ParseTimestampTest, ReadsWhatProtobufWrote) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(1'700'000'123);
  ts.set_nanos(456);
  int64_t s;
  int32_t n;
  ASSERT_TRUE(ParseTimestamp(ts.SerializeAsString(), &s, &n));
  EXPECT_EQ(s, 1'700'000'123);
  EXPECT_EQ(n, 456);
  ts.set_seconds(-86400);  // before the epoch
  ts.set_nanos(0);
  ASSERT_TRUE(ParseTimestamp(ts.SerializeAsString(), &s, &n));
  EXPECT_EQ(s, -86400);
  EXPECT_EQ(n, 0);
  ASSERT_TRUE(ParseTimestamp("", &s, &n));  // the epoch
  EXPECT_EQ(s, 0);
}

TEST(ParseTimestampTest, RefusesGarbage) {
  int64_t s;
  int32_t n;
  EXPECT_FALSE(ParseTimestamp("\x08", &s, &n));
  EXPECT_FALSE(ParseTimestamp("\x10\xff\xff\xff\xff\x0f", &s, &n));  // nanos out of range
  EXPECT_FALSE(ParseTimestamp("not a timestamp at all", &s, &n));
  google::protobuf::Timestamp far;
  far.set_seconds(253'402'300'800);  // the year 10000
  EXPECT_FALSE(ParseTimestamp(far.SerializeAsString(), &s, &n));
}

}  // namespace
}  // namespace granary::serving
