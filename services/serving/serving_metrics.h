// Serving's own metrics (request counts and latencies by status come from the runtime's gRPC
// metrics):
//
//   granary_serving_entity_rows                   histogram: entity rows per request
//   granary_serving_values_total{status}          feature values returned, by status
//   granary_serving_corrupt_values_total          stored bytes that did not parse
//   granary_serving_redis_round_trip_seconds      histogram: one batch, send to last reply
//   granary_serving_redis_batch_gets              histogram: HMGETs per round trip
//   granary_serving_catalog_version{project}      the catalog version being served
//   granary_serving_catalog_age_seconds{project}  time since that version was committed
#ifndef GRANARY_SERVICES_SERVING_SERVING_METRICS_H_
#define GRANARY_SERVICES_SERVING_SERVING_METRICS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

#include "libs/metrics/atomic_histogram.h"
#include "services/serving/response_builder.h"

namespace granary::serving {

class ServingMetrics {
 public:
  explicit ServingMetrics(prometheus::Registry& registry);

  // The histograms (observed on every request, so without a lock: libs/metrics), which the
  // service exports besides the registry.
  std::vector<std::shared_ptr<prometheus::Collectable>> histograms() const {
    return {entity_rows_family_, round_trip_family_, batch_gets_family_};
  }

  void RecordRead(const ReadCounts& counts);
  void RecordRoundTrip(absl::Duration round_trip, size_t gets);
  // Version 0 when the project has no catalog.
  void RecordCatalog(const std::string& project, int64_t version, absl::Duration age);

 private:
  std::shared_ptr<metrics::AtomicHistogramFamily> entity_rows_family_;
  std::shared_ptr<metrics::AtomicHistogramFamily> round_trip_family_;
  std::shared_ptr<metrics::AtomicHistogramFamily> batch_gets_family_;
  metrics::AtomicHistogram* entity_rows_;
  prometheus::Counter* present_;
  prometheus::Counter* null_value_;
  prometheus::Counter* not_found_;
  prometheus::Counter* invalid_;
  prometheus::Counter* outside_max_age_;
  prometheus::Counter* corrupt_;
  metrics::AtomicHistogram* round_trip_;
  metrics::AtomicHistogram* batch_gets_;
  prometheus::Family<prometheus::Gauge>* catalog_version_;
  prometheus::Family<prometheus::Gauge>* catalog_age_;
};

}  // namespace granary::serving

#endif  // GRANARY_SERVICES_SERVING_SERVING_METRICS_H_
