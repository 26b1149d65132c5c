// Remembers what a token proved, so that a model server sending the same bearer token
// thousands of times a second pays for one signature check, not thousands. An entry lives
// until the token stops being valid (its exp plus the leeway) or `max_age` passes, whichever
// comes first: a key removed from the JWKS stops working within max_age. Refusals are not
// remembered (the next call is checked again). Thread-safe.
#ifndef GRANARY_SERVICES_GATEWAY_TOKEN_CACHE_H_
#define GRANARY_SERVICES_GATEWAY_TOKEN_CACHE_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

#include "libs/auth/authenticator.h"
#include "libs/base/clock.h"

namespace granary::gateway {

class TokenCache : public auth::Authenticator {
 public:
  TokenCache(std::unique_ptr<auth::Authenticator> inner, const base::Clock& clock,
             absl::Duration max_age = absl::Seconds(60), size_t max_entries = 10'000)
      : inner_(std::move(inner)), clock_(clock), max_age_(max_age), max_entries_(max_entries) {}

  absl::StatusOr<auth::Identity> Authenticate(absl::string_view token) override;
  // A remembered token never waits.
  bool MayWait(absl::string_view token) override;
  std::optional<absl::StatusOr<auth::Identity>> AuthenticateUnlessWaiting(
      absl::string_view token) override;

 private:
  struct Entry {
    auth::Identity who;
    absl::Time expires;
  };

  // Authenticate, or with `unless_waiting` nullopt when the inner check would wait.
  std::optional<absl::StatusOr<auth::Identity>> Check(absl::string_view token, bool unless_waiting);

  std::unique_ptr<auth::Authenticator> inner_;
  const base::Clock& clock_;
  const absl::Duration max_age_;
  const size_t max_entries_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace granary::gateway

#endif  // GRANARY_SERVICES_GATEWAY_TOKEN_CACHE_H_
