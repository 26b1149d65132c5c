#include "libs/metrics/atomic_histogram.h"

#include <cmath>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/text_serializer.h"

namespace granary::metrics {
namespace {

TEST(AtomicHistogramTest, BucketsAreCumulativeAndInclusive) {
  AtomicHistogram h({1, 5, 10});
  for (double v : {0.5, 1.0, 3.0, 5.0, 7.0, 100.0}) h.Observe(v);
  prometheus::ClientMetric::Histogram s = h.Snapshot();
  ASSERT_EQ(s.bucket.size(), 4u);
  EXPECT_EQ(s.bucket[0].cumulative_count, 2u);  // 0.5 and 1 (le 1)
  EXPECT_EQ(s.bucket[1].cumulative_count, 4u);  // + 3 and 5
  EXPECT_EQ(s.bucket[2].cumulative_count, 5u);  // + 7
  EXPECT_EQ(s.bucket[3].cumulative_count, 6u);  // + 100, in +Inf
  EXPECT_TRUE(std::isinf(s.bucket[3].upper_bound));
  EXPECT_EQ(s.sample_count, 6u);
  EXPECT_DOUBLE_EQ(s.sample_sum, 116.5);
}

TEST(AtomicHistogramTest, ConcurrentObservationsAreAllCounted) {
  AtomicHistogram h({10});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100000; ++i) h.Observe(i % 2 == 0 ? 1.0 : 20.0);
    });
  }
  for (auto& t : threads) t.join();
  prometheus::ClientMetric::Histogram s = h.Snapshot();
  EXPECT_EQ(s.sample_count, 400000u);
  EXPECT_EQ(s.bucket[0].cumulative_count, 200000u);
  EXPECT_DOUBLE_EQ(s.sample_sum, 200000 * 1.0 + 200000 * 20.0);
}

TEST(AtomicHistogramFamilyTest, ExportsAsAPrometheusHistogram) {
  AtomicHistogramFamily family("test_seconds", "Test latencies.", {0.1, 1});
  family.Add({{"method", "Get"}}).Observe(0.05);
  family.Add({{"method", "Get"}}).Observe(2);
  family.Add({{"method", "Put"}}).Observe(0.5);
  std::string text = prometheus::TextSerializer().Serialize(family.Collect());
  EXPECT_THAT(text, ::testing::HasSubstr("# TYPE test_seconds histogram"));
  EXPECT_THAT(text, ::testing::HasSubstr("test_seconds_bucket{method=\"Get\",le=\"0.1\"} 1"));
  EXPECT_THAT(text, ::testing::HasSubstr("test_seconds_bucket{method=\"Get\",le=\"+Inf\"} 2"));
  EXPECT_THAT(text, ::testing::HasSubstr("test_seconds_count{method=\"Put\"} 1"));
  EXPECT_THAT(text, ::testing::HasSubstr("test_seconds_sum{method=\"Get\"} 2.05"));
}

}  // namespace
}  // namespace granary::metrics
