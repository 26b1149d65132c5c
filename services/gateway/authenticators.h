// The authenticator `auth.type` asks for, built from the gateway's config.
#ifndef GRANARY_SERVICES_GATEWAY_AUTHENTICATORS_H_
#define GRANARY_SERVICES_GATEWAY_AUTHENTICATORS_H_

#include <memory>

#include "absl/status/statusor.h"

#include "libs/auth/authenticator.h"
#include "services/gateway/config.h"

namespace granary::gateway {

// `none`: every caller is the configured identity, token or not (development only).
class FixedIdentity : public auth::Authenticator {
 public:
  explicit FixedIdentity(auth::Identity who) : who_(std::move(who)) {}
  absl::StatusOr<auth::Identity> Authenticate(absl::string_view) override { return who_; }

 private:
  const auth::Identity who_;
};

absl::StatusOr<std::unique_ptr<auth::Authenticator>> MakeAuthenticator(const AuthConfig& config);

}  // namespace granary::gateway

#endif  // GRANARY_SERVICES_GATEWAY_AUTHENTICATORS_H_
