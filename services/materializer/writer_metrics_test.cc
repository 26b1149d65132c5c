#include "services/materializer/writer_metrics.h"

#include <map>
#include <optional>
#include <string>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"

namespace granary::materializer {
namespace {

// The gauge (or counter) `name` with these project/feature_view labels, or nullopt when it is
// not exported.
std::optional<double> Gauge(prometheus::Registry& registry, const std::string& name,
                            const std::string& view) {
  for (const prometheus::MetricFamily& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const prometheus::ClientMetric& metric : family.metric) {
      std::map<std::string, std::string> labels;
      for (const auto& label : metric.label) labels[label.name] = label.value;
      if (labels["project"] == "p" && labels["feature_view"] == view) {
        return family.type == prometheus::MetricType::Counter ? metric.counter.value
                                                              : metric.gauge.value;
      }
    }
  }
  return std::nullopt;
}

constexpr char kAge[] = "granary_materializer_newest_event_age_seconds";
constexpr char kTtl[] = "granary_materializer_feature_view_ttl_seconds";

TEST(WriterMetricsTest, AgesAndTtlsPerViewFromWhatWritersRecorded) {
  prometheus::Registry registry;
  WriterMetrics metrics(registry);
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  // A pushed batch and a materialization task's rows: both count, the newest event wins.
  metrics.RecordOnline("p", "pushed", absl::Milliseconds(3), now - absl::Minutes(10), 7);
  metrics.RecordNewestOnline("p", "materialized", now - absl::Hours(3));
  metrics.RecordNewestOnline("p", "materialized", now - absl::Hours(2));
  metrics.RecordNewestOnline("p", "materialized", now - absl::Hours(5));  // older: ignored
  std::optional<absl::Duration> ttl = absl::Hours(1);
  auto ttl_of = [&](const std::string&, const std::string&) { return ttl; };
  metrics.UpdateAges(now, ttl_of);
  EXPECT_EQ(Gauge(registry, kAge, "pushed"), 600);
  EXPECT_EQ(Gauge(registry, kAge, "materialized"), 7200);
  EXPECT_EQ(Gauge(registry, kTtl, "materialized"), 3600);

  // The catalog not held: the last TTL stays.
  ttl = std::nullopt;
  metrics.UpdateAges(now + absl::Minutes(1), ttl_of);
  EXPECT_EQ(Gauge(registry, kTtl, "materialized"), 3600);
  EXPECT_EQ(Gauge(registry, kAge, "materialized"), 7260);
  // The view has no TTL any more (or is gone): its TTL series goes, nothing to alert against.
  ttl = absl::ZeroDuration();
  metrics.UpdateAges(now + absl::Minutes(2), ttl_of);
  EXPECT_EQ(Gauge(registry, kTtl, "materialized"), std::nullopt);
  EXPECT_EQ(Gauge(registry, kTtl, "pushed"), std::nullopt);
  EXPECT_EQ(Gauge(registry, kAge, "materialized"), 7320);
}

TEST(WriterMetricsTest, PushedRowsCountPerView) {
  prometheus::Registry registry;
  WriterMetrics metrics(registry);
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  metrics.RecordOnline("p", "a", absl::Milliseconds(1), now, 10);
  metrics.RecordOnline("p", "a", absl::Milliseconds(1), now, 5);
  metrics.RecordOnline("p", "b", absl::Milliseconds(1), now, 2);
  metrics.RecordOnline("p", "c", absl::Milliseconds(1), now, 0);
  constexpr char kPushed[] = "granary_materializer_pushed_rows_total";
  EXPECT_EQ(Gauge(registry, kPushed, "a"), 15);
  EXPECT_EQ(Gauge(registry, kPushed, "b"), 2);
  EXPECT_EQ(Gauge(registry, kPushed, "c"), std::nullopt);
}

}  // namespace
}  // namespace granary::materializer
