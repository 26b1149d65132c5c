// Exponential backoff with jitter, for reconnect loops and redelivery delays.
//
//   Backoff backoff({.initial = absl::Milliseconds(100), .max = absl::Seconds(5)});
//   while (!Connect().ok()) wait_for(backoff.Next());
//   backoff.Reset();
#ifndef GRANARY_LIBS_BASE_BACKOFF_H_
#define GRANARY_LIBS_BASE_BACKOFF_H_

#include <cstdint>

#include "absl/random/random.h"
#include "absl/time/time.h"

namespace granary::base {

struct BackoffOptions {
  absl::Duration initial = absl::Milliseconds(100);
  absl::Duration max = absl::Seconds(5);
  double multiplier = 2.0;
  // Each delay is scaled by a random factor in [1 - jitter, 1 + jitter], so that many clients
  // that lost the same backend do not reconnect in lockstep.
  double jitter = 0.2;
};

// Not thread-safe: one per retry loop.
class Backoff {
 public:
  explicit Backoff(BackoffOptions options = {});

  // The delay before the next attempt; grows until options.max.
  absl::Duration Next();
  // Back to the initial delay (after a success).
  void Reset();
  // Delays handed out since the last Reset.
  int64_t attempts() const { return attempts_; }

 private:
  BackoffOptions options_;
  absl::Duration current_;
  int64_t attempts_ = 0;
  absl::BitGen rng_;
};

}  // namespace granary::base

#endif  // GRANARY_LIBS_BASE_BACKOFF_H_
