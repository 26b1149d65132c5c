// Server-side latency quantiles of a run, from a Prometheus histogram the server exports
// (its buckets scraped before and after the run), estimated the way Prometheus's
// histogram_quantile does: linearly within the bucket the rank falls in. Coarse where the
// buckets are (serving's: 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5 ms: a p99 between 1 and 2.5 ms is an
// interpolation), but it is the server's own view, beside the client's. gRPC's interceptors
// start timing when the handler takes the call off its queue: time a call waited in the queue
// is not in it.
//
//   HistogramScrape before = HistogramScrape::Parse(text, "grpc_server_handling_seconds",
//                                                   {"grpc_method=\"GetOnlineFeatures\""});
//   ...run...
//   HistogramScrape run = after.Minus(before);
//   run.count(); run.Quantile(0.99);  // seconds
#ifndef GRANARY_TOOLS_BENCH_HISTOGRAM_SCRAPE_H_
#define GRANARY_TOOLS_BENCH_HISTOGRAM_SCRAPE_H_

#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace granary::bench {

class HistogramScrape {
 public:
  // The `<name>_bucket` series in Prometheus text `text` whose labels contain every one of
  // `labels` (each exactly as printed, `key="value"`), summed per upper bound.
  static HistogramScrape Parse(absl::string_view text, absl::string_view name,
                               const std::vector<std::string>& labels);

  // What was observed between `earlier` and this.
  HistogramScrape Minus(const HistogramScrape& earlier) const;
  double count() const;
  // `q` in 0..1, in the histogram's unit; 0 without observations. A rank in the last
  // (+Inf) bucket reads as the largest finite bound.
  double Quantile(double q) const;

 private:
  std::map<double, double> cumulative_;  // upper bound (+Inf included) -> count at or below
};

}  // namespace granary::bench

#endif  // GRANARY_TOOLS_BENCH_HISTOGRAM_SCRAPE_H_
