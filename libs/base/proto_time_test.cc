#include "libs/base/proto_time.h"

#include "gtest/gtest.h"

namespace granary::base {
namespace {

TEST(ProtoTimeTest, RoundTripsWithNanos) {
  absl::Time t = absl::FromUnixSeconds(1700000000) + absl::Nanoseconds(123456789);
  google::protobuf::Timestamp p = ToProtoTime(t);
  EXPECT_EQ(p.seconds(), 1700000000);
  EXPECT_EQ(p.nanos(), 123456789);
  EXPECT_EQ(FromProtoTime(p), t);
}

TEST(ProtoTimeTest, BeforeTheEpochNanosStayPositive) {
  google::protobuf::Timestamp p = ToProtoTime(absl::UnixEpoch() - absl::Milliseconds(1));
  EXPECT_EQ(p.seconds(), -1);
  EXPECT_EQ(p.nanos(), 999000000);
}

TEST(ProtoTimeTest, Durations) {
  google::protobuf::Duration d = ToProtoDuration(absl::Hours(24) + absl::Milliseconds(5));
  EXPECT_EQ(d.seconds(), 86400);
  EXPECT_EQ(d.nanos(), 5000000);
  EXPECT_EQ(FromProtoDuration(d), absl::Hours(24) + absl::Milliseconds(5));
}

}  // namespace
}  // namespace granary::base
