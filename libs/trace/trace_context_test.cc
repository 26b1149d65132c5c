#include "libs/trace/trace_context.h"

#include <set>

#include "gtest/gtest.h"

namespace granary::trace {
namespace {

constexpr char kValid[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(TraceContextTest, ReadsAValidHeaderAndWritesItBack) {
  std::optional<TraceContext> context = ParseTraceparent(kValid);
  ASSERT_TRUE(context.has_value());
  EXPECT_EQ(context->TraceIdHex(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(context->SpanIdHex(), "00f067aa0ba902b7");
  EXPECT_TRUE(context->sampled);
  EXPECT_EQ(context->Traceparent(), kValid);

  std::optional<TraceContext> unsampled =
      ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  ASSERT_TRUE(unsampled.has_value());
  EXPECT_FALSE(unsampled->sampled);
  // Only the sampled bit counts; other flags are not ours to keep.
  std::optional<TraceContext> other_flags =
      ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03");
  ASSERT_TRUE(other_flags.has_value());
  EXPECT_TRUE(other_flags->sampled);
  EXPECT_EQ(other_flags->Traceparent(), kValid);
}

TEST(TraceContextTest, IgnoresEveryMalformedHeader) {
  for (const char* bad : {
           "",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",      // no flags
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",  // 00 has no more fields
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",   // upper case
           "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",   // version ff
           "00-00000000000000000000000000000000-00f067aa0ba902b7-01",   // zero trace id
           "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",   // zero span id
           "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",   // separator
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",   // flags not hex
           "00-4bf92f3577b34da6a3ce929d0e0e473x-00f067aa0ba902b7-01",   // trace id not hex
           "0x-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",   // version not hex
           "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",  // later version, no '-'
       }) {
    EXPECT_FALSE(ParseTraceparent(bad).has_value()) << bad;
    EXPECT_EQ(TraceIdOf(bad), "") << bad;
  }
}

TEST(TraceContextTest, ReadsALaterVersionAsVersion00) {
  std::optional<TraceContext> context =
      ParseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future");
  ASSERT_TRUE(context.has_value());
  EXPECT_EQ(context->Traceparent(), kValid);
  EXPECT_EQ(TraceIdOf(kValid), "4bf92f3577b34da6a3ce929d0e0e4736");
}

TEST(TraceContextTest, AChildKeepsItsParentsTraceAndDecision) {
  std::optional<TraceContext> parent = ParseTraceparent(kValid);
  TraceContext child = ChildOf(parent, /*sample_ratio=*/0.0);
  EXPECT_EQ(child.trace_id, parent->trace_id);
  EXPECT_NE(child.span_id, parent->span_id);
  EXPECT_TRUE(child.sampled) << "the parent's decision wins over the ratio";

  parent->sampled = false;
  EXPECT_FALSE(ChildOf(parent, /*sample_ratio=*/1.0).sampled);
}

TEST(TraceContextTest, ARootStartsANewTraceSampledAtTheRatio) {
  std::set<TraceId> ids;
  int sampled = 0;
  constexpr int kRoots = 10000;
  for (int i = 0; i < kRoots; ++i) {
    TraceContext root = ChildOf(std::nullopt, 0.25);
    ids.insert(root.trace_id);
    EXPECT_EQ(root.sampled, SampledAtRatio(root.trace_id, 0.25));
    sampled += root.sampled ? 1 : 0;
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(kRoots));
  // 2,500 expected; the bounds are more than 10 standard deviations (43) away.
  EXPECT_GT(sampled, 2000);
  EXPECT_LT(sampled, 3000);
  EXPECT_FALSE(ChildOf(std::nullopt, 0.0).sampled);
  EXPECT_TRUE(ChildOf(std::nullopt, 1.0).sampled);
}

TEST(TraceContextTest, EveryProcessDecidesAlikeForOneTrace) {
  // The decision reads the id's last 8 bytes as a fraction of 2^64: 0xa3ce929d0e0e4736 is
  // 0.6399..., so any process keeps this trace at a ratio of 0.65 and drops it at 0.63.
  TraceId id = ParseTraceparent(kValid)->trace_id;
  EXPECT_TRUE(SampledAtRatio(id, 0.65));
  EXPECT_FALSE(SampledAtRatio(id, 0.63));
  // The decision is monotonic in the ratio: a trace kept at 10% is kept at 50%.
  int kept_low = 0;
  for (int i = 0; i < 1000; ++i) {
    TraceId t = NewTraceId();
    if (SampledAtRatio(t, 0.1)) {
      ++kept_low;
      EXPECT_TRUE(SampledAtRatio(t, 0.5));
    }
  }
  EXPECT_GT(kept_low, 0);
}

}  // namespace
}  // namespace granary::trace
