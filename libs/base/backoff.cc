#include "libs/base/backoff.h"

#include <algorithm>

namespace granary::base {

Backoff::Backoff(BackoffOptions options) : options_(options), current_(options.initial) {}

absl::Duration Backoff::Next() {
  absl::Duration base = current_;
  current_ = std::min(options_.max, current_ * options_.multiplier);
  ++attempts_;
  if (options_.jitter <= 0) return base;
  double factor = absl::Uniform(rng_, 1.0 - options_.jitter, 1.0 + options_.jitter);
  return std::min(options_.max, base * factor);
}

void Backoff::Reset() {
  current_ = options_.initial;
  attempts_ = 0;
}

}  // namespace granary::base
