// What the benchmarks share about their surroundings: running redis-benchmark and reading its
// figures, and reading a series from a service's Prometheus /metrics.
//
//   ASSIGN_OR_RETURN(RawFigures raw, RunRedisBenchmark(port, {"-P", "100", "HSET", "k", "f",
//   "v"})); double written = ScrapeMetric(metrics_port,
//   "granary_materializer_rows_written_total{...}");
#ifndef GRANARY_TOOLS_BENCH_RAW_TOOLS_H_
#define GRANARY_TOOLS_BENCH_RAW_TOOLS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace granary::bench {

// What redis-benchmark printed for one run.
struct RawFigures {
  double rps = 0;
  double p50_ms = 0;
  double p99_ms = 0;
};

// redis-benchmark against 127.0.0.1:port with `args` (options, then the command and its
// arguments); the figures of the command's CSV line.
absl::StatusOr<RawFigures> RunRedisBenchmark(int port, const std::vector<std::string>& args);

// The value of a series as printed (name and labels exactly), summed when it is there more
// than once; 0 when absent or the endpoint does not answer.
double ScrapeMetric(int metrics_port, const std::string& series);

}  // namespace granary::bench

#endif  // GRANARY_TOOLS_BENCH_RAW_TOOLS_H_
