// Reading Prometheus's text exposition format (what every service's /metrics serves): sample
// lines only, comments and types skipped. The gateway's health route and the benchmarks' scrapes
// read metrics through it.
#ifndef GRANARY_LIBS_METRICS_METRICS_TEXT_H_
#define GRANARY_LIBS_METRICS_METRICS_TEXT_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace granary::metrics {

struct MetricSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// INVALID_ARGUMENT naming the line (1-based) that is not a sample, a comment or blank.
absl::StatusOr<std::vector<MetricSample>> ParseMetricsText(absl::string_view text);

}  // namespace granary::metrics

#endif  // GRANARY_LIBS_METRICS_METRICS_TEXT_H_
