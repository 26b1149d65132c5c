#include "services/materializer/writer_metrics.h"

#include <vector>

namespace granary::materializer {
namespace {

const char* Name(BatchOutcome outcome) {
  switch (outcome) {
    case BatchOutcome::kWritten:
      return "written";
    case BatchOutcome::kSkipped:
      return "skipped";
    case BatchOutcome::kRetried:
      return "retried";
    case BatchOutcome::kDeadLettered:
      return "dead_lettered";
    case BatchOutcome::kPartlyDeadLettered:
      return "partly_dead_lettered";
  }
  return "unknown";
}

}  // namespace

WriterMetrics::WriterMetrics(prometheus::Registry& registry) {
  batches_ = &prometheus::BuildCounter()
                  .Name("granary_materializer_batches_total")
                  .Help("Pushed batches handled by a writer, by outcome.")
                  .Register(registry);
  rows_ = &prometheus::BuildCounter()
               .Name("granary_materializer_rows_written_total")
               .Help("Rows a writer applied (online: only rows newer than the stored ones).")
               .Register(registry);
  on_demand_failures_ =
      &prometheus::BuildCounter()
           .Name("granary_materializer_on_demand_failures_total")
           .Help("On-demand outputs whose expression failed for a row, by where it ran.")
           .Register(registry);
  newest_age_ = &prometheus::BuildGauge()
                     .Name("granary_materializer_newest_event_age_seconds")
                     .Help("Age of the newest event written online, per feature view.")
                     .Register(registry);
  pushed_rows_ = &prometheus::BuildCounter()
                      .Name("granary_materializer_pushed_rows_total")
                      .Help("Rows of pushed batches applied online, per feature view.")
                      .Register(registry);
  view_ttl_ = &prometheus::BuildGauge()
                   .Name("granary_materializer_feature_view_ttl_seconds")
                   .Help("A written view's TTL as its catalog says (views without one: absent).")
                   .Register(registry);
  stalled_ = &prometheus::BuildGauge()
                  .Name("granary_materializer_worker_stalled_seconds")
                  .Help("How long a worker has been failing without any success (0: it is not).")
                  .Register(registry);
  in_hand_ = &prometheus::BuildGauge()
                  .Name("granary_materializer_messages_in_hand")
                  .Help("Messages a worker of this process fetched and has not settled yet.")
                  .Register(registry);
  oldest_failing_ = &prometheus::BuildGauge()
                         .Name("granary_materializer_oldest_failing_message_seconds")
                         .Help(
                             "How long the message failing longest on a worker of this process "
                             "(retried, not yet settled) has been failing (0: none is).")
                         .Register(registry);
  push_messages_ = &prometheus::BuildGauge()
                        .Name("granary_materializer_push_stream_messages")
                        .Help("Batches GRANARY_PUSH holds (as of the trimmer's last pass).")
                        .Register(registry)
                        .Add({});
  push_bytes_ =
      &prometheus::BuildGauge()
           .Name("granary_materializer_push_stream_bytes")
           .Help("Bytes GRANARY_PUSH holds; at jetstream.push_max_bytes pushes are refused.")
           .Register(registry)
           .Add({});
  trim_failing_ = &prometheus::BuildGauge()
                       .Name("granary_materializer_push_trim_failing")
                       .Help("1 while the trimmer's passes fail (GRANARY_PUSH then only grows).")
                       .Register(registry)
                       .Add({});
  behind_ = &prometheus::BuildGauge()
                 .Name("granary_materializer_push_unacknowledged")
                 .Help("Batches stored in GRANARY_PUSH after a writer's acknowledgement floor.")
                 .Register(registry);
  freshness_family_ = std::make_shared<metrics::AtomicHistogramFamily>(
      "granary_materializer_push_to_online_seconds",
      "From ingestion receiving a pushed batch to the batch being written to Redis.",
      std::vector<double>{500e-6, 1e-3, 2e-3, 5e-3, 10e-3, 20e-3, 50e-3, 100e-3, 250e-3, 1, 5, 30});
  freshness_ = &freshness_family_->Add({});
}

void WriterMetrics::RecordBatch(const std::string& consumer, BatchOutcome outcome) {
  batches_->Add({{"consumer", consumer}, {"outcome", Name(outcome)}}).Increment();
}

void WriterMetrics::RecordRowsWritten(const std::string& consumer, int64_t rows) {
  if (rows > 0) rows_->Add({{"consumer", consumer}}).Increment(static_cast<double>(rows));
}

void WriterMetrics::RecordOnDemandFailures(const std::string& consumer, int64_t outputs) {
  if (outputs > 0) {
    on_demand_failures_->Add({{"consumer", consumer}}).Increment(static_cast<double>(outputs));
  }
}

void WriterMetrics::RecordOnline(const std::string& project, const std::string& view,
                                 absl::Duration latency, absl::Time newest_event, int64_t rows) {
  freshness_->Observe(absl::ToDoubleSeconds(latency));
  if (rows > 0) {
    pushed_rows_->Add({{"project", project}, {"feature_view", view}})
        .Increment(static_cast<double>(rows));
  }
  RecordNewestOnline(project, view, newest_event);
}

void WriterMetrics::RecordNewestOnline(const std::string& project, const std::string& view,
                                       absl::Time newest_event) {
  absl::MutexLock lock(&mu_);
  absl::Time& newest = newest_[{project, view}];
  if (newest_event > newest) newest = newest_event;
}

void WriterMetrics::SetWorkerState(const std::string& consumer, absl::Duration stalled_for,
                                   int64_t in_hand, absl::Duration oldest_failing) {
  stalled_->Add({{"consumer", consumer}}).Set(absl::ToDoubleSeconds(stalled_for));
  in_hand_->Add({{"consumer", consumer}}).Set(static_cast<double>(in_hand));
  oldest_failing_->Add({{"consumer", consumer}}).Set(absl::ToDoubleSeconds(oldest_failing));
}

void WriterMetrics::SetPushStream(const bus::TrimState& state) {
  trim_failing_->Set(state.status.ok() ? 0 : 1);
  if (!state.status.ok()) return;  // the last figures seen stay
  push_messages_->Set(static_cast<double>(state.stream.messages));
  push_bytes_->Set(static_cast<double>(state.stream.bytes));
  for (const auto& [consumer, behind] : state.behind) {
    behind_->Add({{"consumer", consumer}}).Set(static_cast<double>(behind));
  }
}

void WriterMetrics::UpdateAges(absl::Time now, const TtlOf& ttl_of) {
  // A copy, so that writers recording a batch do not wait for the catalog lookups below.
  std::map<std::pair<std::string, std::string>, absl::Time> newest;
  {
    absl::MutexLock lock(&mu_);
    newest.insert(newest_.begin(), newest_.end());
  }
  for (const auto& [key, event] : newest) {
    const std::map<std::string, std::string> labels = {{"project", key.first},
                                                       {"feature_view", key.second}};
    newest_age_->Add(labels).Set(absl::ToDoubleSeconds(now - event));
    std::optional<absl::Duration> ttl = ttl_of ? ttl_of(key.first, key.second) : std::nullopt;
    if (!ttl.has_value()) continue;
    prometheus::Gauge& gauge = view_ttl_->Add(labels);
    if (*ttl > absl::ZeroDuration()) {
      gauge.Set(absl::ToDoubleSeconds(*ttl));
    } else {
      view_ttl_->Remove(&gauge);  // no TTL (any more): nothing to alert against
    }
  }
}

}  // namespace granary::materializer
