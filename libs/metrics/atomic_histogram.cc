#include "libs/metrics/atomic_histogram.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>

namespace granary::metrics {
namespace {

uint64_t Bits(double d) {
  uint64_t b;
  std::memcpy(&b, &d, sizeof(b));
  return b;
}

double FromBits(uint64_t b) {
  double d;
  std::memcpy(&d, &b, sizeof(d));
  return d;
}

}  // namespace

AtomicHistogram::AtomicHistogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void AtomicHistogram::Observe(double value) {
  // The first bucket whose upper bound is at least the value (Prometheus buckets are "le").
  size_t bucket = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) -
                                      bounds_.begin());
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  uint64_t old_bits = sum_bits_.load(std::memory_order_relaxed);
  while (!sum_bits_.compare_exchange_weak(old_bits, Bits(FromBits(old_bits) + value),
                                          std::memory_order_relaxed)) {
  }
}

prometheus::ClientMetric::Histogram AtomicHistogram::Snapshot() const {
  prometheus::ClientMetric::Histogram h;
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += counts_[i].load(std::memory_order_relaxed);
    prometheus::ClientMetric::Bucket b;
    b.cumulative_count = cumulative;
    b.upper_bound = i < bounds_.size() ? bounds_[i] : std::numeric_limits<double>::infinity();
    h.bucket.push_back(b);
  }
  h.sample_count = cumulative;
  h.sample_sum = FromBits(sum_bits_.load(std::memory_order_relaxed));
  return h;
}

AtomicHistogramFamily::AtomicHistogramFamily(std::string name, std::string help,
                                             std::vector<double> bounds)
    : name_(std::move(name)), help_(std::move(help)), bounds_(std::move(bounds)) {}

AtomicHistogram& AtomicHistogramFamily::Add(const std::map<std::string, std::string>& labels) {
  absl::MutexLock lock(&mu_);
  std::unique_ptr<AtomicHistogram>& h = histograms_[labels];
  if (h == nullptr) h = std::make_unique<AtomicHistogram>(bounds_);
  return *h;
}

std::vector<prometheus::MetricFamily> AtomicHistogramFamily::Collect() const {
  prometheus::MetricFamily family;
  family.name = name_;
  family.help = help_;
  family.type = prometheus::MetricType::Histogram;
  absl::MutexLock lock(&mu_);
  for (const auto& [labels, histogram] : histograms_) {
    prometheus::ClientMetric metric;
    for (const auto& [name, value] : labels) metric.label.push_back({name, value});
    metric.histogram = histogram->Snapshot();
    family.metric.push_back(std::move(metric));
  }
  return {std::move(family)};
}

}  // namespace granary::metrics
