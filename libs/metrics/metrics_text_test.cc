#include "libs/metrics/metrics_text.h"

#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace granary::metrics {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

TEST(MetricsTextTest, ReadsSamplesWithAndWithoutLabels) {
  auto samples = ParseMetricsText(
      "# HELP up Whether it is up.\n"
      "# TYPE up gauge\n"
      "up 1\n"
      "\n"
      "rows_total{project=\"p\",feature_view=\"v\"} 1.5e3 1700000000000\n"
      "age{a=\"x\\\"y\",b=\"back\\\\slash\",} +Inf\n");
  ASSERT_TRUE(samples.ok()) << samples.status();
  ASSERT_EQ(samples->size(), 3u);
  EXPECT_EQ((*samples)[0].name, "up");
  EXPECT_EQ((*samples)[0].value, 1);
  EXPECT_TRUE((*samples)[0].labels.empty());
  EXPECT_EQ((*samples)[1].name, "rows_total");
  EXPECT_EQ((*samples)[1].value, 1500);
  EXPECT_THAT((*samples)[1].labels, ElementsAre(Pair("feature_view", "v"), Pair("project", "p")));
  EXPECT_TRUE(std::isinf((*samples)[2].value));
  EXPECT_THAT((*samples)[2].labels, ElementsAre(Pair("a", "x\"y"), Pair("b", "back\\slash")));
}

TEST(MetricsTextTest, NamesTheLineThatIsNotASample) {
  for (const char* text : {"ok 1\nbroken\n", "ok 1\nx{a=\"unterminated} 1\n", "ok 1\nx one\n"}) {
    auto samples = ParseMetricsText(text);
    ASSERT_FALSE(samples.ok()) << text;
    EXPECT_EQ(samples.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(samples.status().message(), "metrics line 2: not a sample") << text;
  }
}

}  // namespace
}  // namespace granary::metrics
