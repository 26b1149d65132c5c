// Histograms for request paths. prometheus-cpp's Histogram takes a mutex on every
// observation; these take none (a counter per bucket and the sum, all atomic), and are
// exported on the same /metrics endpoint as ordinary Prometheus histograms.
//
//   auto family = std::make_shared<AtomicHistogramFamily>(
//       "granary_serving_entity_rows", "Entity rows per request.", std::vector<double>{1, 10});
//   AtomicHistogram& rows = family->Add({});            // at set-up
//   rows.Observe(12);                                   // on the request path
//   host.AddCollectable(family);                        // exported with the service's metrics
#ifndef GRANARY_LIBS_METRICS_ATOMIC_HISTOGRAM_H_
#define GRANARY_LIBS_METRICS_ATOMIC_HISTOGRAM_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "prometheus/client_metric.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace granary::metrics {

class AtomicHistogram {
 public:
  // `bounds`: the buckets' upper bounds, ascending (+Inf is implied).
  explicit AtomicHistogram(std::vector<double> bounds);

  void Observe(double value);
  // Cumulative bucket counts, count and sum, as Prometheus reads them.
  prometheus::ClientMetric::Histogram Snapshot() const;

 private:
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // per bucket, +Inf last
  std::atomic<uint64_t> sum_bits_{0};                // a double's bits
};

// Histograms of one name, one per label set: a Collectable for the metrics endpoint.
class AtomicHistogramFamily : public prometheus::Collectable {
 public:
  AtomicHistogramFamily(std::string name, std::string help, std::vector<double> bounds);

  // The histogram with these labels, created on first use. For set-up: it takes a lock.
  AtomicHistogram& Add(const std::map<std::string, std::string>& labels);

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const std::string name_;
  const std::string help_;
  const std::vector<double> bounds_;
  mutable absl::Mutex mu_;
  std::map<std::map<std::string, std::string>, std::unique_ptr<AtomicHistogram>> histograms_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace granary::metrics

#endif  // GRANARY_LIBS_METRICS_ATOMIC_HISTOGRAM_H_
