#include "tools/bench/histogram_scrape.h"

#include "gtest/gtest.h"

namespace granary::bench {
namespace {

constexpr char kBefore[] = R"(# TYPE grpc_server_handling_seconds histogram
grpc_server_handling_seconds_bucket{grpc_method="Get",grpc_service="a.S",le="0.001"} 10
grpc_server_handling_seconds_bucket{grpc_method="Get",grpc_service="a.S",le="0.002"} 10
grpc_server_handling_seconds_bucket{grpc_method="Get",grpc_service="a.S",le="+Inf"} 10
grpc_server_handling_seconds_bucket{grpc_method="Other",grpc_service="a.S",le="0.001"} 500
grpc_server_handling_seconds_bucket{grpc_method="Other",grpc_service="a.S",le="+Inf"} 500
grpc_server_handling_seconds_count{grpc_method="Get",grpc_service="a.S"} 10
)";
// 100 more Get calls: 80 at or under 1 ms, 18 in (1, 2] ms, 2 above.
constexpr char kAfter[] =
    R"(grpc_server_handling_seconds_bucket{grpc_method="Get",grpc_service="a.S",le="0.001"} 90
grpc_server_handling_seconds_bucket{grpc_method="Get",grpc_service="a.S",le="0.002"} 108
grpc_server_handling_seconds_bucket{grpc_method="Get",grpc_service="a.S",le="+Inf"} 110
grpc_server_handling_seconds_bucket{grpc_method="Other",grpc_service="a.S",le="0.001"} 900
grpc_server_handling_seconds_bucket{grpc_method="Other",grpc_service="a.S",le="+Inf"} 900
)";

TEST(HistogramScrapeTest, QuantilesOfWhatARunAddedForTheMethodAsked) {
  const std::vector<std::string> get = {"grpc_method=\"Get\""};
  HistogramScrape run =
      HistogramScrape::Parse(kAfter, "grpc_server_handling_seconds", get)
          .Minus(HistogramScrape::Parse(kBefore, "grpc_server_handling_seconds", get));
  EXPECT_DOUBLE_EQ(run.count(), 100);
  EXPECT_DOUBLE_EQ(run.Quantile(0.5), 0.001 * 50 / 80);          // within the first bucket
  EXPECT_DOUBLE_EQ(run.Quantile(0.9), 0.001 + 0.001 * 10 / 18);  // within (1, 2] ms
  EXPECT_DOUBLE_EQ(run.Quantile(0.99), 0.002);  // in +Inf: the largest finite bound
}

TEST(HistogramScrapeTest, NoObservationsNoQuantile) {
  HistogramScrape none = HistogramScrape::Parse("", "grpc_server_handling_seconds", {});
  EXPECT_EQ(none.count(), 0);
  EXPECT_EQ(none.Quantile(0.99), 0);
}

}  // namespace
}  // namespace granary::bench
