// A pushed batch checked against its route, cell by cell, and split into one PushBatch per
// feature view (what goes on JetStream). Either every row is good and all batches come back,
// or the error names the first bad column and row and nothing is to be stored.
//
// Every row's event time must lie in years 1 to 9999 and no further ahead of `received` than
// `max_future_skew`; so must a created time (a null or missing created column means "created
// when received"). Timestamp-typed feature values must lie in years 1 to 9999. A push carries
// every feature of each view its source feeds: a view's row is one observation, and writing
// part of it would stamp the features left out with the new event time.
//
//   ASSIGN_OR_RETURN(auto batches, BuildPushBatches(*route, request, {.batch_id = id, ...}));
#ifndef GRANARY_SERVICES_INGESTION_PUSH_BATCHES_H_
#define GRANARY_SERVICES_INGESTION_PUSH_BATCHES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "granary/events/v1/events.pb.h"
#include "granary/ingestion/v1/ingestion.pb.h"

#include "services/ingestion/push_route.h"

namespace granary::ingestion {

struct BatchContext {
  std::string batch_id;
  absl::Time received;
  size_t max_rows = 10000;
  // How far past `received` an event (or created) time may lie.
  absl::Duration max_future_skew = absl::Hours(1);
};

// INVALID_ARGUMENT naming the column (and row) for: no rows or too many, columns of different
// lengths, a column the push source does not have, a missing join key, event timestamp or
// feature column, a null key or event time, a time out of range, a value of the wrong type.
absl::StatusOr<std::vector<events::v1::PushBatch>> BuildPushBatches(const PushRoute& route,
                                                                    const v1::PushRequest& request,
                                                                    const BatchContext& context);

// The JetStream subject and message id of a batch.
std::string PushSubject(const events::v1::PushBatch& batch);
std::string PushMessageId(const events::v1::PushBatch& batch);

}  // namespace granary::ingestion

#endif  // GRANARY_SERVICES_INGESTION_PUSH_BATCHES_H_
