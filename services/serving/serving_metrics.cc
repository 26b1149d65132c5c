#include "services/serving/serving_metrics.h"

namespace granary::serving {

ServingMetrics::ServingMetrics(prometheus::Registry& registry) {
  entity_rows_family_ = std::make_shared<metrics::AtomicHistogramFamily>(
      "granary_serving_entity_rows", "Entity rows per GetOnlineFeatures request.",
      std::vector<double>{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000});
  entity_rows_ = &entity_rows_family_->Add({});
  auto& values = prometheus::BuildCounter()
                     .Name("granary_serving_values_total")
                     .Help("Feature values returned, by status.")
                     .Register(registry);
  present_ = &values.Add({{"status", "PRESENT"}});
  null_value_ = &values.Add({{"status", "NULL_VALUE"}});
  not_found_ = &values.Add({{"status", "NOT_FOUND"}});
  outside_max_age_ = &values.Add({{"status", "OUTSIDE_MAX_AGE"}});
  // On-demand features whose expression failed for their row.
  invalid_ = &values.Add({{"status", "INVALID"}});
  corrupt_ = &prometheus::BuildCounter()
                  .Name("granary_serving_corrupt_values_total")
                  .Help("Stored values or timestamps that did not parse (served as NOT_FOUND).")
                  .Register(registry)
                  .Add({});
  round_trip_family_ = std::make_shared<metrics::AtomicHistogramFamily>(
      "granary_serving_redis_round_trip_seconds",
      "One pipelined batch of reads: from sending it to its last reply.",
      std::vector<double>{50e-6, 100e-6, 200e-6, 500e-6, 1e-3, 2e-3, 5e-3, 10e-3, 20e-3, 50e-3,
                          100e-3, 250e-3, 1});
  round_trip_ = &round_trip_family_->Add({});
  batch_gets_family_ = std::make_shared<metrics::AtomicHistogramFamily>(
      "granary_serving_redis_batch_gets",
      "Hash reads (HMGET or HGETALL) per Redis round trip (requests share round trips when "
      "busy).",
      std::vector<double>{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 4096});
  batch_gets_ = &batch_gets_family_->Add({});
  catalog_version_ = &prometheus::BuildGauge()
                          .Name("granary_serving_catalog_version")
                          .Help("Catalog version served, per project (0: none yet).")
                          .Register(registry);
  catalog_age_ = &prometheus::BuildGauge()
                      .Name("granary_serving_catalog_age_seconds")
                      .Help("Time since the served catalog version was committed, per project.")
                      .Register(registry);
}

void ServingMetrics::RecordRead(const ReadCounts& counts) {
  entity_rows_->Observe(static_cast<double>(counts.rows));
  if (counts.present > 0) present_->Increment(static_cast<double>(counts.present));
  if (counts.null_value > 0) null_value_->Increment(static_cast<double>(counts.null_value));
  if (counts.not_found > 0) not_found_->Increment(static_cast<double>(counts.not_found));
  if (counts.outside_max_age > 0) {
    outside_max_age_->Increment(static_cast<double>(counts.outside_max_age));
  }
  if (counts.invalid > 0) invalid_->Increment(static_cast<double>(counts.invalid));
  if (counts.corrupt > 0) corrupt_->Increment(static_cast<double>(counts.corrupt));
}

void ServingMetrics::RecordRoundTrip(absl::Duration round_trip, size_t gets) {
  round_trip_->Observe(absl::ToDoubleSeconds(round_trip));
  batch_gets_->Observe(static_cast<double>(gets));
}

void ServingMetrics::RecordCatalog(const std::string& project, int64_t version,
                                   absl::Duration age) {
  catalog_version_->Add({{"project", project}}).Set(static_cast<double>(version));
  catalog_age_->Add({{"project", project}}).Set(absl::ToDoubleSeconds(age));
}

}  // namespace granary::serving
