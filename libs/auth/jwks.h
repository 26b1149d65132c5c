// JSON Web Key Sets (RFC 7517) as PEM public keys libjwt can verify with, and where they come
// from: a file, or an OIDC issuer's discovery document (jwks_uri) fetched over HTTPS.
//
//   ASSIGN_OR_RETURN(KeySet keys, ParseJwks(json_text));
//   const PublicKey* key = keys.Find("kid-1");
#ifndef GRANARY_LIBS_AUTH_JWKS_H_
#define GRANARY_LIBS_AUTH_JWKS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace granary::auth {

struct PublicKey {
  std::string kid;
  // "RS256" for an RSA key, "ES256" for an EC P-256 key (from `alg`, else from `kty`/`crv`).
  std::string alg;
  // SubjectPublicKeyInfo PEM ("-----BEGIN PUBLIC KEY-----...").
  std::string pem;
};

struct KeySet {
  std::vector<PublicKey> keys;
  // The key with this kid; with an empty kid, the only key of `alg` if there is exactly one.
  const PublicKey* Find(absl::string_view kid, absl::string_view alg) const;
};

// Keys of other types or uses (`use: enc`, symmetric `oct` keys, other curves) are skipped:
// a JWKS may list keys this verifier has no use for. INVALID_ARGUMENT for text that is not a
// JWKS or an RSA/EC key whose parameters do not decode.
absl::StatusOr<KeySet> ParseJwks(absl::string_view json);

// Where verification keys come from. Thread-safe.
class KeySource {
 public:
  virtual ~KeySource() = default;
  // The keys held now (fetched or read on first use). UNAVAILABLE when none could be had.
  virtual absl::StatusOr<std::shared_ptr<const KeySet>> Keys() = 0;
  // A token named a kid the held keys lack (the issuer rotated keys): fetch again, unless a
  // fetch happened within the rate limit, and return what is held then.
  virtual absl::StatusOr<std::shared_ptr<const KeySet>> KeysAfterUnknownKid() = 0;
  // Whether verifying a token with this kid and alg would wait for a fetch now (the keys are
  // not held, are stale and due, or lack the kid and a refetch is due).
  virtual bool MayWait(absl::string_view /*kid*/, absl::string_view /*alg*/) const { return false; }
};

}  // namespace granary::auth

#endif  // GRANARY_LIBS_AUTH_JWKS_H_
