// Verification keys from an OIDC issuer: its discovery document names the JWKS (`jwks_uri`),
// both fetched over HTTPS on first use and again when the keys are older than cache_ttl or a
// token names a kid the held keys lack (the issuer rotated its keys).
//
//   auto keys = std::make_shared<OidcKeySource>(
//       OidcOptions{.discovery_url = "https://idp/realms/ml/.well-known/openid-configuration"},
//       base::Clock::Real());
//   jwt_options.keys = keys;
//
// Fetches are rate-limited (at most one per min_refresh_interval, whatever the cause), so
// neither forged kids nor an issuer that is down turn into a storm of requests; concurrent
// callers that need a fetch share one. A failed refresh keeps the held keys (an issuer's
// outage must not lock everyone out); UNAVAILABLE only while no keys were ever fetched.
#ifndef GRANARY_LIBS_AUTH_OIDC_KEY_SOURCE_H_
#define GRANARY_LIBS_AUTH_OIDC_KEY_SOURCE_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

#include "libs/auth/jwks.h"
#include "libs/base/clock.h"

namespace granary::auth {

struct OidcOptions {
  // https://<issuer>/.well-known/openid-configuration (http:// only on loopback, for tests).
  std::string discovery_url;
  // For each of the two requests.
  absl::Duration timeout = absl::Seconds(5);
  // Keys older than this are fetched again (discovery document included) on the next use, so
  // a key the issuer removed stops verifying.
  absl::Duration cache_ttl = absl::Hours(1);
  // The least time between two fetches.
  absl::Duration min_refresh_interval = absl::Seconds(30);
  // A PEM bundle to verify the issuer with instead of the system's CAs.
  std::string ca_file;
  // When set, the discovery document must name this issuer (OIDC Discovery 1.0, 4.3): a URL
  // pointing at another issuer's document is a misconfiguration whose keys are not used.
  std::string expected_issuer;
};

class OidcKeySource : public KeySource {
 public:
  // Fetches nothing yet: the first Keys() does. `clock` must outlive the source.
  OidcKeySource(OidcOptions options, const base::Clock& clock);

  // UNAVAILABLE (naming the URL and what went wrong) when no keys were ever fetched.
  absl::StatusOr<std::shared_ptr<const KeySet>> Keys() override;
  absl::StatusOr<std::shared_ptr<const KeySet>> KeysAfterUnknownKid() override;
  bool MayWait(absl::string_view kid, absl::string_view alg) const override;

  // The `issuer` of the last discovery document fetched, empty before the first. OIDC requires
  // it to equal the configured issuer (checked when OidcOptions::expected_issuer is set) and
  // the tokens' `iss` (the JWT authenticator's check).
  std::string issuer() const;

 private:
  // The held keys, or why there are none.
  absl::StatusOr<std::shared_ptr<const KeySet>> HeldLocked() const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Whether a fetch may start now: none within min_refresh_interval, and the keys are stale
  // (or missing, or a kid was unknown).
  bool DueLocked(absl::Time now, bool unknown_kid) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::shared_ptr<const KeySet>> Refresh(bool unknown_kid)
      ABSL_LOCKS_EXCLUDED(refresh_mu_, mu_);

  struct Fetched {
    std::shared_ptr<const KeySet> keys;
    std::string issuer;
  };
  // The discovery document when `with_discovery` or when no jwks_uri is known yet, then the
  // JWKS. UNAVAILABLE for anything that goes wrong: the caller is never at fault.
  absl::StatusOr<Fetched> Fetch(bool with_discovery) ABSL_EXCLUSIVE_LOCKS_REQUIRED(refresh_mu_);

  const OidcOptions options_;
  const base::Clock& clock_;

  // Serializes fetches; a caller that waited here finds the fetch it waited for done.
  absl::Mutex refresh_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  std::string jwks_uri_ ABSL_GUARDED_BY(refresh_mu_);
  std::string issuer_from_discovery_ ABSL_GUARDED_BY(refresh_mu_);

  // Read on every verification, held only for copies: never across a fetch.
  mutable absl::Mutex mu_;
  std::shared_ptr<const KeySet> keys_ ABSL_GUARDED_BY(mu_);
  std::string issuer_ ABSL_GUARDED_BY(mu_);
  absl::Time fetched_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Time attempted_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  bool fetching_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status last_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace granary::auth

#endif  // GRANARY_LIBS_AUTH_OIDC_KEY_SOURCE_H_
