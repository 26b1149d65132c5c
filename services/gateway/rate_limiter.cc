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

absl::Duration RateLimiter::Admit(const auth::Identity& who) {
  RateLimit limit = LimitOf(who);
  if (limit.rate <= 0) return absl::ZeroDuration();
  double burst = std::max(limit.burst, 1.0);
  absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  auto [it, fresh] = buckets_.try_emplace(who.user, Bucket{burst, now});
  Bucket& bucket = it->second;
  if (!fresh) {
    double earned = absl::ToDoubleSeconds(now - bucket.refilled) * limit.rate;
    bucket.tokens = std::min(burst, bucket.tokens + std::max(0.0, earned));
    bucket.refilled = now;
  }
  if (bucket.tokens >= 1) {
    bucket.tokens -= 1;
    return absl::ZeroDuration();
  }
  return absl::Seconds((1 - bucket.tokens) / limit.rate);
}

}  // namespace granary::gateway
