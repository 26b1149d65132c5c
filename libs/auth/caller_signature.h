// The gateway's word on who is calling, for the backends behind it. The gateway signs the
// identity it established, the method it authorized and an expiry with a secret it shares
// with the backends (HMAC-SHA256), and sends that as one metadata entry; a backend configured
// to require it refuses any call without a valid one. A header forged by someone who reached
// a backend directly fails the HMAC; one copied from an earlier call fails once it expires or
// when replayed on another method.
//
//   CallerSigner signer(secret, absl::Seconds(60));
//   context.AddMetadata(kCallerSignatureHeader, signer.Sign(identity, method, clock.Now()));
//   ...
//   CallerVerifier verifier(secret);
//   ASSIGN_OR_RETURN(Identity who, verifier.Verify(header, method, clock.Now()));
#ifndef GRANARY_LIBS_AUTH_CALLER_SIGNATURE_H_
#define GRANARY_LIBS_AUTH_CALLER_SIGNATURE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

#include "libs/auth/identity.h"
#include "libs/config/secret.h"

namespace granary::auth {

// HMAC-SHA256 under one key, keyed once: OpenSSL's one-shot HMAC() looks the algorithm up and
// sets the key again on every call (1.9 us against 0.8 us), and the gateway signs and every
// backend verifies each call.
class HmacSha256 {
 public:
  explicit HmacSha256(const std::string& key);
  ~HmacSha256();
  HmacSha256(const HmacSha256&) = delete;
  HmacSha256& operator=(const HmacSha256&) = delete;
  // Safe to call from many threads at once: each call works on its own copy of the keyed state.
  std::string Mac(absl::string_view payload) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// gRPC metadata key of the signed identity.
inline constexpr char kCallerSignatureHeader[] = "x-granary-identity";

class CallerSigner {
 public:
  CallerSigner(const config::Secret& key, absl::Duration ttl)
      : mac_(std::make_shared<const HmacSha256>(key.value())), ttl_(ttl) {}
  // "v1.<payload>.<mac>", both base64url. `method` is the gRPC path ("/pkg.Service/Method").
  std::string Sign(const Identity& who, absl::string_view method, absl::Time now) const;

 private:
  std::shared_ptr<const HmacSha256> mac_;  // shared: signers and verifiers are copied
  absl::Duration ttl_;
};

class CallerVerifier {
 public:
  // `leeway` absorbs clock differences between the gateway's host and the backend's.
  explicit CallerVerifier(const config::Secret& key, absl::Duration leeway = absl::Seconds(5))
      : mac_(std::make_shared<const HmacSha256>(key.value())), leeway_(leeway) {}
  // UNAUTHENTICATED: no signature, a malformed one, a bad MAC, expired, or signed for another
  // method.
  absl::StatusOr<Identity> Verify(absl::string_view header, absl::string_view method,
                                  absl::Time now) const;

 private:
  std::shared_ptr<const HmacSha256> mac_;  // shared: signers and verifiers are copied
  absl::Duration leeway_;
};

}  // namespace granary::auth

#endif  // GRANARY_LIBS_AUTH_CALLER_SIGNATURE_H_
