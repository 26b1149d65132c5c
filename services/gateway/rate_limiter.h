// Requests per second per caller, as token buckets: each user gets `rate` tokens a second up
// to `burst`; the limit is the most generous of the caller's roles' limits, else the default.
// A rate of 0 means unlimited. Past the limit a call is refused with how long to wait.
#ifndef GRANARY_SERVICES_GATEWAY_RATE_LIMITER_H_
#define GRANARY_SERVICES_GATEWAY_RATE_LIMITER_H_

#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

#include "libs/auth/identity.h"
#include "libs/base/clock.h"

namespace granary::gateway {

struct RateLimit {
  double rate = 0;  // per second; 0: unlimited
  double burst = 0;
};

struct RateLimitConfig {
  RateLimit default_limit;
  std::map<std::string, RateLimit> by_role;
  // Failed authentications per client address: past it, that address's calls are refused
  // before any token is checked (a flood of made-up tokens costs a signature check each).
  RateLimit failures = {.rate = 20, .burst = 100};
};

class RateLimiter {
 public:
  RateLimiter(RateLimitConfig config, const base::Clock& clock)
      : config_(std::move(config)), clock_(clock) {}

  // Zero when the call may go now; else how long until a token is there.
  absl::Duration Admit(const auth::Identity& who);

  // For credentials that failed: how long the address must wait before it may try again (zero:
  // it may), without spending anything; and the failure's charge.
  absl::Duration FailuresBlock(const std::string& address);
  void ChargeFailure(const std::string& address);

 private:
  RateLimit LimitOf(const auth::Identity& who) const;
  // Refills `key`'s bucket; spends a token when `spend` and one is there.
  absl::Duration Take(const std::string& key, const RateLimit& limit, bool spend, bool force);

  struct Bucket {
    double tokens = 0;
    absl::Time refilled;
  };

  const RateLimitConfig config_;
  const base::Clock& clock_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(mu_);
};

}  // namespace granary::gateway

#endif  // GRANARY_SERVICES_GATEWAY_RATE_LIMITER_H_
