// Push, the domain side: take the push's bytes from the process's in-flight budget, find the
// push source's route in the registry snapshot, check and split the batch (push_batches.h),
// check that every view's message fits what NATS takes, then publish one message per feature
// view to JetStream and answer only once JetStream stored every one of them. Nothing is
// published unless every message can be: a batch is refused whole, or sent whole. A retry with
// the same batch id is deduplicated by JetStream (message id "<project>/<batch_id>/<view>") and
// answered as a duplicate; a batch whose publish failed midway is completed by its retry. A
// unary push without a batch id gets one derived from its content (batch_id.h).
//
//   Pusher pusher(options, lookup, jetstream, budget, clock, metrics);
//   pusher.Push(request, [](absl::StatusOr<v1::PushResponse> r) { ... });
#ifndef GRANARY_SERVICES_INGESTION_PUSHER_H_
#define GRANARY_SERVICES_INGESTION_PUSHER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "granary/events/v1/events.pb.h"
#include "granary/ingestion/v1/ingestion.pb.h"

#include "libs/base/clock.h"
#include "libs/bus/publisher.h"
#include "libs/registry_client/catalog.h"
#include "services/ingestion/in_flight_budget.h"
#include "services/ingestion/ingestion_metrics.h"
#include "services/ingestion/push_route.h"

namespace granary::ingestion {

struct PusherOptions {
  // The project of requests that name none.
  std::string default_project;
  // The projects this service accepts pushes for.
  std::vector<std::string> projects;
  // Rows one batch may carry.
  size_t max_batch_rows = 10000;
  // How far ahead of this service's clock an event or created time may be.
  absl::Duration max_future_skew = absl::Hours(1);
  // The hint given with a refusal because GRANARY_PUSH is full.
  absl::Duration stream_full_retry_after = absl::Seconds(1);
  // Whether GRANARY_PUSH is configured so that what it acknowledges is kept (the verdict of
  // the JetStream check, bus::StreamSafety): while it is not, pushes are refused (UNAVAILABLE
  // naming the settings) rather than acknowledged and then possibly lost. Empty: not checked.
  std::function<absl::Status()> streams_safe;
};

// A push holds about this many times its request's size while in flight (the request, the
// per-view batches, their serialized messages).
inline constexpr int64_t kInFlightBytesPerRequestByte = 3;

using CatalogLookup = std::function<absl::StatusOr<std::shared_ptr<const registry_client::Catalog>>(
    const std::string& project)>;

class Pusher {
 public:
  using Done = std::function<void(absl::StatusOr<v1::PushResponse>)>;

  Pusher(PusherOptions options, CatalogLookup lookup,
         std::shared_ptr<bus::AckedPublisher> publisher, std::shared_ptr<InFlightBudget> budget,
         const base::Clock* clock, std::shared_ptr<IngestionMetrics> metrics);

  // Calls `done` exactly once, possibly before returning (bad input, NATS down) or later on
  // the NATS client's thread; `done` must not block. Errors: INVALID_ARGUMENT naming the
  // field, column and row, or the size limit a batch passes; NOT_FOUND for an unknown project
  // or push source; FAILED_PRECONDITION for a source that feeds nothing; RESOURCE_EXHAUSTED
  // (with base::RetryAfter) when the in-flight budget is spent or GRANARY_PUSH is full;
  // UNAVAILABLE when the registry snapshot or JetStream cannot be had, or while JetStream's
  // settings could lose what it acknowledges (options.streams_safe). Unless the answer is an
  // ack, a retry with the same batch id is safe (it stores what is missing, once).
  // `traceparent`: the push's trace context (the ingestion call's span), sent on with every
  // message so that the workers' spans join the producer's trace. Read before Push returns
  // (it may point into the call's metadata).
  void Push(const v1::PushRequest& request, Done done, absl::string_view traceparent = {});

 private:
  absl::StatusOr<std::vector<events::v1::PushBatch>> Prepare(const v1::PushRequest& request,
                                                             const std::string& project,
                                                             const std::string& batch_id);
  // Each batch serialized; INVALID_ARGUMENT when one would not fit a NATS message.
  absl::StatusOr<std::vector<std::string>> Serialize(
      const std::vector<events::v1::PushBatch>& batches);

  const PusherOptions options_;
  const CatalogLookup lookup_;
  const std::shared_ptr<bus::AckedPublisher> publisher_;
  const std::shared_ptr<InFlightBudget> budget_;
  const base::Clock* clock_;
  const std::shared_ptr<IngestionMetrics> metrics_;
  RouteCache routes_;
};

}  // namespace granary::ingestion

#endif  // GRANARY_SERVICES_INGESTION_PUSHER_H_
