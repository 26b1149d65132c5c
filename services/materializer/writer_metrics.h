// Metrics of the materializer's workers:
//
//   granary_materializer_batches_total{consumer,outcome}  written | skipped | retried |
//                                                          dead_lettered | partly_dead_lettered
//   granary_materializer_worker_stalled_seconds{consumer} how long a worker has been failing
//                                                          without a success (0: not stalled)
//   granary_materializer_messages_in_hand{consumer}       fetched and not yet settled
//   granary_materializer_oldest_failing_message_seconds{consumer}  how long the message failing
//                                                          longest (retried, not settled) has
//                                                          been failing here; one message stuck
//                                                          while others pass holds GRANARY_PUSH's
//                                                          trim floor without stalling the worker
//   granary_materializer_rows_written_total{consumer}     rows applied (online: newer ones only)
//   granary_materializer_push_to_online_seconds           histogram: push received by ingestion
//                                                          -> written to Redis
//   granary_materializer_newest_event_age_seconds{project,feature_view}
//                                                          age of the newest event written online
//   granary_materializer_feature_view_ttl_seconds{project,feature_view}
//                                                          that view's TTL, when it has one
//   granary_materializer_on_demand_failures_total{consumer}  on-demand outputs whose expression
//                                                          failed for a row: online-writer and
//                                                          task-runner (write-time views, stored
//                                                          as failed: INVALID), historical (null
//                                                          in the training set)
#ifndef GRANARY_SERVICES_MATERIALIZER_WRITER_METRICS_H_
#define GRANARY_SERVICES_MATERIALIZER_WRITER_METRICS_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

#include "libs/bus/stream_trimmer.h"
#include "libs/metrics/atomic_histogram.h"

namespace granary::materializer {

enum class BatchOutcome { kWritten, kSkipped, kRetried, kDeadLettered, kPartlyDeadLettered };

class WriterMetrics {
 public:
  explicit WriterMetrics(prometheus::Registry& registry);

  std::shared_ptr<prometheus::Collectable> histograms() const { return freshness_family_; }

  void RecordBatch(const std::string& consumer, BatchOutcome outcome);
  void RecordRowsWritten(const std::string& consumer, int64_t rows);
  void RecordOnDemandFailures(const std::string& consumer, int64_t outputs);
  // A batch of `rows` rows reached Redis: how long after ingestion received it, and its newest
  // event. The rows count per view whether or not they were newer than the stored ones: the
  // push rate the UI's health page shows.
  void RecordOnline(const std::string& project, const std::string& view, absl::Duration latency,
                    absl::Time newest_event, int64_t rows);
  // Rows of a materialization task reached Redis, the newest of them at `newest_event` (no
  // push latency: they came from the offline store).
  void RecordNewestOnline(const std::string& project, const std::string& view,
                          absl::Time newest_event);
  // A view's TTL as its catalog says now: nullopt when the catalog is not held (the last
  // figure stays), zero when the view has none or is gone (its TTL series is removed).
  using TtlOf = std::function<std::optional<absl::Duration>(const std::string& project,
                                                            const std::string& view)>;
  // Sets the age gauges from the newest events recorded, and beside each the view's TTL when
  // `ttl_of` knows it, so that an alert can compare the two (before each scrape).
  void UpdateAges(absl::Time now, const TtlOf& ttl_of = nullptr);
  // A worker's state (before each scrape).
  void SetWorkerState(const std::string& consumer, absl::Duration stalled_for, int64_t in_hand,
                      absl::Duration oldest_failing);
  // What the push stream's trimmer last saw (before each scrape): a stream that fills while a
  // writer falls behind, or a trimmer that keeps failing, is what an operator must see before
  // pushes are refused.
  void SetPushStream(const bus::TrimState& state);

 private:
  prometheus::Family<prometheus::Counter>* batches_;
  prometheus::Family<prometheus::Counter>* rows_;
  prometheus::Family<prometheus::Counter>* on_demand_failures_;
  prometheus::Family<prometheus::Gauge>* newest_age_;
  prometheus::Family<prometheus::Gauge>* view_ttl_;
  prometheus::Family<prometheus::Counter>* pushed_rows_;
  prometheus::Family<prometheus::Gauge>* stalled_;
  prometheus::Family<prometheus::Gauge>* in_hand_;
  prometheus::Family<prometheus::Gauge>* oldest_failing_;
  prometheus::Gauge* push_messages_;
  prometheus::Gauge* push_bytes_;
  prometheus::Gauge* trim_failing_;
  prometheus::Family<prometheus::Gauge>* behind_;
  std::shared_ptr<metrics::AtomicHistogramFamily> freshness_family_;
  metrics::AtomicHistogram* freshness_;
  absl::Mutex mu_;
  std::map<std::pair<std::string, std::string>, absl::Time> newest_ ABSL_GUARDED_BY(mu_);
};

}  // namespace granary::materializer

#endif  // GRANARY_SERVICES_MATERIALIZER_WRITER_METRICS_H_
