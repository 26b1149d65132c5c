#include "services/ingestion/ingestion_metrics.h"

#include <string>
#include <vector>

namespace granary::ingestion {

IngestionMetrics::IngestionMetrics(prometheus::Registry& registry) {
  store_family_ = std::make_shared<metrics::AtomicHistogramFamily>(
      "granary_ingestion_store_seconds",
      "From receiving a batch to JetStream having stored all of its messages.",
      std::vector<double>{100e-6, 250e-6, 500e-6, 1e-3, 2e-3, 5e-3, 10e-3, 20e-3, 50e-3, 100e-3,
                          250e-3, 1, 5});
  store_seconds_ = &store_family_->Add({});
  auto& batches = prometheus::BuildCounter()
                      .Name("granary_ingestion_batches_total")
                      .Help("Pushed batches, by outcome.")
                      .Register(registry);
  auto& rows = prometheus::BuildCounter()
                   .Name("granary_ingestion_rows_total")
                   .Help("Rows of pushed batches, by outcome.")
                   .Register(registry);
  auto outcome = [&](const std::string& name) {
    return Outcome{&batches.Add({{"outcome", name}}), &rows.Add({{"outcome", name}})};
  };
  stored_ = outcome("stored");
  duplicate_ = outcome("duplicate");
  rejected_ = outcome("rejected");
  throttled_ = outcome("throttled");
  unavailable_ = outcome("unavailable");
  bytes_in_flight_ =
      &prometheus::BuildGauge()
           .Name("granary_ingestion_bytes_in_flight")
           .Help(
               "Bytes of pushes the service holds now (ingestion.max_bytes_in_flight "
               "bounds them).")
           .Register(registry)
           .Add({});
  open_streams_ = &prometheus::BuildGauge()
                       .Name("granary_ingestion_open_streams")
                       .Help("PushStreams open now (ingestion.max_streams bounds them).")
                       .Register(registry)
                       .Add({});
  streams_refused_ = &prometheus::BuildCounter()
                          .Name("granary_ingestion_streams_refused_total")
                          .Help(
                              "PushStreams refused at once because ingestion.max_streams were "
                              "open (the producer opens them again later).")
                          .Register(registry)
                          .Add({});
}

void IngestionMetrics::SetBytesInFlight(int64_t bytes) {
  bytes_in_flight_->Set(static_cast<double>(bytes));
}

void IngestionMetrics::SetOpenStreams(int streams) {
  open_streams_->Set(static_cast<double>(streams));
}

void IngestionMetrics::RecordStreamRefused() { streams_refused_->Increment(); }

void IngestionMetrics::RecordStored(size_t rows, bool duplicate, absl::Duration took) {
  const Outcome& o = duplicate ? duplicate_ : stored_;
  o.batches->Increment();
  o.rows->Increment(static_cast<double>(rows));
  store_seconds_->Observe(absl::ToDoubleSeconds(took));
}

void IngestionMetrics::RecordFailed(size_t rows, const absl::Status& status) {
  const Outcome& o = absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status) ? unavailable_
                     : absl::IsResourceExhausted(status)                             ? throttled_
                                                                                     : rejected_;
  o.batches->Increment();
  o.rows->Increment(static_cast<double>(rows));
}

}  // namespace granary::ingestion
