#include "libs/base/backoff.h"

#include "gtest/gtest.h"

namespace granary::base {
namespace {

TEST(BackoffTest, GrowsGeometricallyUpToMax) {
  Backoff b({.initial = absl::Milliseconds(100),
             .max = absl::Milliseconds(500),
             .multiplier = 2,
             .jitter = 0});
  EXPECT_EQ(b.Next(), absl::Milliseconds(100));
  EXPECT_EQ(b.Next(), absl::Milliseconds(200));
  EXPECT_EQ(b.Next(), absl::Milliseconds(400));
  EXPECT_EQ(b.Next(), absl::Milliseconds(500));
  EXPECT_EQ(b.Next(), absl::Milliseconds(500));
  EXPECT_EQ(b.attempts(), 5);
}

TEST(BackoffTest, ResetStartsOver) {
  Backoff b({.initial = absl::Milliseconds(10), .max = absl::Seconds(1), .jitter = 0});
  b.Next();
  b.Next();
  b.Reset();
  EXPECT_EQ(b.attempts(), 0);
  EXPECT_EQ(b.Next(), absl::Milliseconds(10));
}

TEST(BackoffTest, JitterStaysWithinBoundsAndNeverExceedsMax) {
  Backoff b({.initial = absl::Milliseconds(100),
             .max = absl::Milliseconds(150),
             .multiplier = 2,
             .jitter = 0.5});
  absl::Duration first = b.Next();
  EXPECT_GE(first, absl::Milliseconds(50));
  EXPECT_LE(first, absl::Milliseconds(150));
  for (int i = 0; i < 100; ++i) {
    absl::Duration d = b.Next();
    EXPECT_GE(d, absl::Milliseconds(75));
    EXPECT_LE(d, absl::Milliseconds(150));
  }
}

}  // namespace
}  // namespace granary::base
