#include "services/gateway/token_cache.h"

#include <algorithm>

namespace granary::gateway {

absl::StatusOr<auth::Identity> TokenCache::Authenticate(absl::string_view token) {
  return *Check(token, /*unless_waiting=*/false);
}

std::optional<absl::StatusOr<auth::Identity>> TokenCache::AuthenticateUnlessWaiting(
    absl::string_view token) {
  return Check(token, /*unless_waiting=*/true);
}

std::optional<absl::StatusOr<auth::Identity>> TokenCache::Check(absl::string_view token,
                                                                bool unless_waiting) {
  if (token.empty()) return inner_->Authenticate(token);
  const absl::Time now = clock_.Now();
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(token);
    if (it != entries_.end()) {
      if (now < it->second.expires) return it->second.who;
      entries_.erase(it);
    }
  }
  if (unless_waiting && inner_->MayWait(token)) return std::nullopt;
  absl::StatusOr<auth::Identity> who = inner_->Authenticate(token);
  if (!who.ok()) return who;
  absl::Time expires = std::min(who->valid_until, now + max_age_);
  absl::MutexLock lock(&mu_);
  // Full: start over rather than track recency; a busy gateway refills it within a second.
  if (entries_.size() >= max_entries_) entries_.clear();
  entries_[std::string(token)] = {*who, expires};
  return who;
}

bool TokenCache::MayWait(absl::string_view token) {
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(token);
    if (it != entries_.end() && clock_.Now() < it->second.expires) return false;
  }
  return inner_->MayWait(token);
}

}  // namespace granary::gateway
