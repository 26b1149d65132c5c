// When to try again, carried on a Status (as a payload): a service that refuses work for a
// passing reason (its memory budget is spent, a stream is full) says how long to wait, and
// the adapter that answers passes it on (gRPC's grpc-retry-pushback-ms, a stream's
// retry_after_ms).
//
//   return WithRetryAfter(absl::ResourceExhaustedError("..."), absl::Milliseconds(100));
//   if (std::optional<absl::Duration> wait = RetryAfter(status)) ...
#ifndef GRANARY_LIBS_BASE_RETRY_AFTER_H_
#define GRANARY_LIBS_BASE_RETRY_AFTER_H_

#include <optional>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace granary::base {

absl::Status WithRetryAfter(absl::Status status, absl::Duration after);

// The hint, when the status carries one.
std::optional<absl::Duration> RetryAfter(const absl::Status& status);

}  // namespace granary::base

#endif  // GRANARY_LIBS_BASE_RETRY_AFTER_H_
