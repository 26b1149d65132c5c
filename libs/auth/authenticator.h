// Turns a caller's bearer token into an Identity. One implementation per `auth.type`:
// none (development), jwt / oidc (jwt_authenticator.h), kubernetes (kubernetes_authenticator.h).
#ifndef GRANARY_LIBS_AUTH_AUTHENTICATOR_H_
#define GRANARY_LIBS_AUTH_AUTHENTICATOR_H_

#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "libs/auth/identity.h"

namespace granary::auth {

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // `token` is what followed "Bearer " (empty when the caller sent none). UNAUTHENTICATED
  // with the reason (expired, wrong audience, ...) when it does not prove an identity;
  // UNAVAILABLE when the key source or the API server that would decide cannot be reached.
  // The reason never quotes the token. Thread-safe.
  virtual absl::StatusOr<Identity> Authenticate(absl::string_view token) = 0;
  // Whether Authenticate(token) might wait on the network now (a key set or a review not
  // held yet). A caller on an event loop hands such tokens to a thread that may wait.
  virtual bool MayWait(absl::string_view /*token*/) { return false; }
  // Authenticate(token) when it would not wait, else nullopt (one look at the caches where an
  // implementation keeps them, rather than MayWait's and then Authenticate's).
  virtual std::optional<absl::StatusOr<Identity>> AuthenticateUnlessWaiting(
      absl::string_view token) {
    if (MayWait(token)) return std::nullopt;
    return Authenticate(token);
  }
};

}  // namespace granary::auth

#endif  // GRANARY_LIBS_AUTH_AUTHENTICATOR_H_
