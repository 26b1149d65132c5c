#include "services/gateway/rate_limiter.h"

#include <algorithm>

namespace granary::gateway {

RateLimit RateLimiter::LimitOf(const auth::Identity& who) const {
  RateLimit best;
  bool any = false;
  for (const std::string& role : who.roles) {
    auto it = config_.by_role.find(role);
    if (it == config_.by_role.end()) continue;
    const RateLimit& limit = it->second;
    // Unlimited beats any rate; then the higher rate, then the larger burst.
    bool better =
        !any || (best.rate != 0 && (limit.rate == 0 || limit.rate > best.rate ||
                                    (limit.rate == best.rate && limit.burst > best.burst)));
    if (better) best = limit;
    any = true;
  }
  return any ? best : config_.default_limit;
}

absl::Duration RateLimiter::Take(const std::string& key, const RateLimit& limit, bool spend,
                                 bool force) {
  if (limit.rate <= 0) return absl::ZeroDuration();
  double burst = std::max(limit.burst, 1.0);
  absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  auto [it, fresh] = buckets_.try_emplace(key, Bucket{burst, now});
  Bucket& bucket = it->second;
  if (!fresh) {
    double earned = absl::ToDoubleSeconds(now - bucket.refilled) * limit.rate;
    bucket.tokens = std::min(burst, bucket.tokens + std::max(0.0, earned));
    bucket.refilled = now;
  }
  if (bucket.tokens >= 1) {
    if (spend) bucket.tokens -= 1;
    return absl::ZeroDuration();
  }
  // A failure is counted even when the bucket is empty, so that trying again while refused
  // keeps the address refused.
  if (force) bucket.tokens = std::max(bucket.tokens - 1, -burst);
  return absl::Seconds((1 - bucket.tokens) / limit.rate);
}

absl::Duration RateLimiter::Admit(const auth::Identity& who) {
  return Take("user:" + who.user, LimitOf(who), /*spend=*/true, /*force=*/false);
}

absl::Duration RateLimiter::FailuresBlock(const std::string& address) {
  return Take("failed:" + address, config_.failures, /*spend=*/false, /*force=*/false);
}

void RateLimiter::ChargeFailure(const std::string& address) {
  Take("failed:" + address, config_.failures, /*spend=*/true, /*force=*/true);
}

}  // namespace granary::gateway
