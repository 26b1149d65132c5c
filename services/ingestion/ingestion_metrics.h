// Ingestion's own metrics (request counts and latencies by status come from the runtime):
//
//   granary_ingestion_batches_total{outcome}   stored | duplicate | rejected | throttled |
//                                              unavailable
//   granary_ingestion_rows_total{outcome}      rows of those batches
//   granary_ingestion_store_seconds            histogram: batch received -> stored in JetStream
//   granary_ingestion_bytes_in_flight          bytes of pushes held now (of the budget)
//   granary_ingestion_open_streams             PushStreams open now (of max_streams)
//   granary_ingestion_streams_refused_total    PushStreams refused at once, max_streams open
#ifndef GRANARY_SERVICES_INGESTION_INGESTION_METRICS_H_
#define GRANARY_SERVICES_INGESTION_INGESTION_METRICS_H_

#include <memory>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

#include "libs/metrics/atomic_histogram.h"

namespace granary::ingestion {

class IngestionMetrics {
 public:
  explicit IngestionMetrics(prometheus::Registry& registry);

  // Exported besides the registry (observed on every batch, so without a lock).
  std::shared_ptr<prometheus::Collectable> histograms() const { return store_family_; }

  void RecordStored(size_t rows, bool duplicate, absl::Duration took);
  // A batch that was not stored: rejected for bad input, throttled (the in-flight budget or
  // the stream full) or unavailable (retry it).
  void RecordFailed(size_t rows, const absl::Status& status);
  // Set before each scrape.
  void SetBytesInFlight(int64_t bytes);
  void SetOpenStreams(int streams);
  void RecordStreamRefused();

 private:
  std::shared_ptr<metrics::AtomicHistogramFamily> store_family_;
  metrics::AtomicHistogram* store_seconds_;
  struct Outcome {
    prometheus::Counter* batches;
    prometheus::Counter* rows;
  };
  Outcome stored_, duplicate_, rejected_, throttled_, unavailable_;
  prometheus::Gauge* bytes_in_flight_;
  prometheus::Gauge* open_streams_;
  prometheus::Counter* streams_refused_;
};

}  // namespace granary::ingestion

#endif  // GRANARY_SERVICES_INGESTION_INGESTION_METRICS_H_
