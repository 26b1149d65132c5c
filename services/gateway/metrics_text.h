// Reading Prometheus's text exposition format (what every service's /metrics serves), for the
// gateway's health route: sample lines only, comments and types skipped.
#ifndef GRANARY_SERVICES_GATEWAY_METRICS_TEXT_H_
#define GRANARY_SERVICES_GATEWAY_METRICS_TEXT_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace granary::gateway {

struct MetricSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// INVALID_ARGUMENT naming the line (1-based) that is not a sample, a comment or blank.
absl::StatusOr<std::vector<MetricSample>> ParseMetricsText(absl::string_view text);

}  // namespace granary::gateway

#endif  // GRANARY_SERVICES_GATEWAY_METRICS_TEXT_H_
