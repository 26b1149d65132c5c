// Push, the domain side: find the push source's route in the registry snapshot, check and
// split the batch (push_batches.h), publish one message per feature view to JetStream, and
// answer only once JetStream stored every one of them. A retry with the same batch id is
// deduplicated by JetStream (message id "<batch_id>/<view>") and answered as a duplicate.
//
//   Pusher pusher(options, lookup, jetstream, clock, metrics);
//   pusher.Push(request, [](absl::StatusOr<v1::PushResponse> r) { ... });
#ifndef GRANARY_SERVICES_INGESTION_PUSHER_H_
#define GRANARY_SERVICES_INGESTION_PUSHER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "granary/events/v1/events.pb.h"
#include "granary/ingestion/v1/ingestion.pb.h"

#include "libs/base/clock.h"
#include "libs/bus/jetstream.h"
#include "libs/registry_client/catalog.h"
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
};

using CatalogLookup = std::function<absl::StatusOr<std::shared_ptr<const registry_client::Catalog>>(
    const std::string& project)>;

class Pusher {
 public:
  using Done = std::function<void(absl::StatusOr<v1::PushResponse>)>;

  Pusher(PusherOptions options, CatalogLookup lookup,
         std::shared_ptr<bus::AckedPublisher> publisher, const base::Clock* clock,
         std::shared_ptr<IngestionMetrics> metrics);

  // Calls `done` exactly once, possibly before returning (bad input, NATS down) or later on
  // the NATS client's thread; `done` must not block. Errors: INVALID_ARGUMENT naming the
  // field, column and row; NOT_FOUND for an unknown project or push source; FAILED_PRECONDITION
  // for a source that feeds nothing; UNAVAILABLE when the registry snapshot or JetStream
  // cannot be had (then nothing is acknowledged, and a retry with the same batch id is safe).
  void Push(const v1::PushRequest& request, Done done);

 private:
  absl::StatusOr<std::vector<events::v1::PushBatch>> Prepare(const v1::PushRequest& request,
                                                             const std::string& batch_id);

  const PusherOptions options_;
  const CatalogLookup lookup_;
  const std::shared_ptr<bus::AckedPublisher> publisher_;
  const base::Clock* clock_;
  const std::shared_ptr<IngestionMetrics> metrics_;
  RouteCache routes_;
};

}  // namespace granary::ingestion

#endif  // GRANARY_SERVICES_INGESTION_PUSHER_H_
