// Whether a call came through the gateway, and for whom. The gateway signs each call it
// forwards (libs/auth/caller_signature.h); with `server.gateway_signature.required`, a backend
// refuses every call without a valid signature for the method called, so one reached directly
// cannot be fooled by a forged header. ServiceHost::callers() holds the process's check; an
// adapter takes it by constructor and checks first in every handler:
//
//   grpc::Status RegistryGrpc::Plan(grpc::ServerContext* ctx, ...) {
//     if (grpc::Status refused = callers_.Check(*ctx, kService, "Plan"); !refused.ok()) {
//       return refused;
//     }
//     ...
//   absl::StatusOr<std::string> user = callers_.CallerUser(*ctx, kService, "Apply");
#ifndef GRANARY_LIBS_SERVER_CALLER_CHECK_H_
#define GRANARY_LIBS_SERVER_CALLER_CHECK_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/support/status.h"

#include "libs/auth/caller_signature.h"
#include "libs/auth/identity.h"
#include "libs/base/clock.h"
#include "libs/server/server_config.h"

namespace grpc {
class ServerContextBase;
}

namespace granary::server {

// "/<service>/<method>": the path a call travels under, which the gateway signs.
std::string MethodPath(absl::string_view service, absl::string_view method);

class CallerCheck {
 public:
  // Every call passes; callers are named by base::CallerName.
  CallerCheck() = default;
  // `clock` outlives this (tests pin time; services use the real clock).
  explicit CallerCheck(const GatewaySignatureConfig& config,
                       const base::Clock& clock = base::Clock::Real());

  bool required() const { return required_; }

  // OK when no signature is required; else UNAUTHENTICATED unless the call carries
  // kCallerSignatureHeader validly signed for `service`'s `method` ("granary.registry.v1.
  // RegistryService", "Apply"), with the verifier's reason.
  grpc::Status Check(const grpc::ServerContextBase& ctx, absl::string_view service,
                     absl::string_view method) const;

  // Who the call is for, once Check would pass (one verification for both): the user the
  // gateway signed for; without a valid signature (allowed only when none is required) what
  // base::CallerName says. UNAUTHENTICATED as Check.
  absl::StatusOr<std::string> CallerUser(const grpc::ServerContextBase& ctx,
                                         absl::string_view service, absl::string_view method) const;

 private:
  // The signed identity; UNAUTHENTICATED when there is none or it is not valid.
  absl::StatusOr<auth::Identity> Verify(const grpc::ServerContextBase& ctx,
                                        absl::string_view service, absl::string_view method) const;

  bool required_ = false;
  // Set when a secret is configured.
  std::optional<auth::CallerVerifier> verifier_;
  const base::Clock* clock_ = &base::Clock::Real();
};

}  // namespace granary::server

#endif  // GRANARY_LIBS_SERVER_CALLER_CHECK_H_
