// Verifies JSON Web Tokens (HS256 for development, RS256 / ES256 from a JWKS file or an OIDC
// issuer) and maps their claims to an Identity.
//
//   JwtOptions options;
//   options.algorithms = {"RS256"};
//   options.keys = jwks_source;
//   options.issuer = "https://idp.example.com/realms/ml";
//   options.audiences = {"granary"};
//   ASSIGN_OR_RETURN(auto authenticator, JwtAuthenticator::Create(std::move(options)));
//   ASSIGN_OR_RETURN(Identity who, authenticator->Authenticate(bearer_token));
//
// The token's header is read before anything in it is trusted: its `alg` must be one of the
// configured algorithms, and it picks the key kind (HS256 only ever verifies with the secret,
// RS256 / ES256 only with a public key published for that algorithm), which closes the
// "alg: none" and the HMAC-with-a-public-key forgeries. `jku`, `jwk` and `x5u` headers are
// ignored: keys never come from the token.
#ifndef GRANARY_LIBS_AUTH_JWT_AUTHENTICATOR_H_
#define GRANARY_LIBS_AUTH_JWT_AUTHENTICATOR_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

#include "libs/auth/authenticator.h"
#include "libs/auth/identity.h"
#include "libs/auth/jwks.h"
#include "libs/base/clock.h"
#include "libs/config/secret.h"

namespace granary::auth {

struct JwtClaimMapping {
  // Claim holding the roles (an array of strings, or one string). A name with dots that is
  // not itself a claim is followed as a path ("realm_access.roles").
  std::string roles_claim = "roles";
  // When set, roles also come from `resource_access.<client_id>.roles` (Keycloak client roles).
  std::string client_id;
  // Claim holding the groups, read the same way as roles_claim.
  std::string groups_claim = "groups";
  // The user is the first of these claims present as a non-empty string.
  std::vector<std::string> user_claims = {"preferred_username", "sub"};
};

struct JwtOptions {
  // Accepted algorithms: a non-empty subset of HS256, RS256, ES256.
  std::vector<std::string> algorithms;
  // For HS256: at least 32 bytes (RFC 7518 3.2: no shorter than the hash).
  config::Secret hs256_secret;
  // For RS256 / ES256.
  std::shared_ptr<KeySource> keys;
  // When set, the `iss` claim must equal it. Required for OIDC (the config layer checks that).
  std::string issuer;
  // When non-empty, the `aud` claim (a string or an array) must contain one of these.
  std::vector<std::string> audiences;
  // Clock skew allowed when checking `exp` and `nbf`.
  absl::Duration leeway = absl::Seconds(30);
  JwtClaimMapping claims;
};

class JwtAuthenticator : public Authenticator {
 public:
  // INVALID_ARGUMENT naming the option for options that cannot work: no algorithm, an
  // unknown one or "none", HS256 without a (long enough) secret, RS256 / ES256 without keys,
  // a negative leeway. `clock` must outlive the authenticator.
  static absl::StatusOr<std::unique_ptr<JwtAuthenticator>> Create(
      JwtOptions options, const base::Clock& clock = base::Clock::Real());

  // UNAUTHENTICATED with a short reason ("no bearer token", "malformed token", "token
  // algorithm X is not accepted", "unknown key id", "bad signature", "token expired", "token
  // not yet valid", "wrong issuer", "wrong audience", "token names no user"); the key
  // source's UNAVAILABLE passes through. `exp` is required; `nbf` is checked when present.
  absl::StatusOr<Identity> Authenticate(absl::string_view token) override;
  // Only a token verified with keys its source would fetch first (not held, stale, or lacking
  // its kid); a malformed or HS256 token never waits.
  bool MayWait(absl::string_view token) override;

 private:
  JwtAuthenticator(JwtOptions options, const base::Clock& clock);

  // The verification key for a token of this (accepted) algorithm and kid.
  absl::StatusOr<std::string> KeyFor(absl::string_view alg, absl::string_view kid) const;

  const JwtOptions options_;
  const base::Clock& clock_;
};

// A development token for `who` (claims sub, preferred_username, roles, groups, iat, nbf,
// exp, and iss / aud when non-empty), signed with HS256. INVALID_ARGUMENT for a secret the
// authenticator would refuse (under 32 bytes), an empty user, or a ttl that is not positive.
absl::StatusOr<std::string> MintHs256Token(absl::string_view secret, const Identity& who,
                                           absl::Time now, absl::Duration ttl,
                                           absl::string_view issuer, absl::string_view audience);

}  // namespace granary::auth

#endif  // GRANARY_LIBS_AUTH_JWT_AUTHENTICATOR_H_
