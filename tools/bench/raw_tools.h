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

#include "libs/testing/grpc_probes.h"

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

// How long a shell command took (its output discarded unless it fails, then in the error).
absl::StatusOr<absl::Duration> TimeShell(const std::string& command);

using testing::ScrapeMetric;

}  // namespace granary::bench

#endif  // GRANARY_TOOLS_BENCH_RAW_TOOLS_H_
