// What every door of the gateway (generic_proxy.h, unary_fast_path.h, the HTTP routes) needs
// to authenticate, authorize, sign, limit, audit and forward a call, and the small rules they
// share about tokens, traces and addresses.
#ifndef GRANARY_SERVICES_GATEWAY_PROXY_H_
#define GRANARY_SERVICES_GATEWAY_PROXY_H_

#include <array>
#include <memory>

#include "grpcpp/generic/generic_stub.h"

#include "libs/auth/authenticator.h"
#include "libs/auth/caller_signature.h"
#include "libs/base/clock.h"
#include "libs/trace/tracer.h"
#include "services/gateway/audit_log.h"
#include "services/gateway/authorizer.h"
#include "services/gateway/rate_limiter.h"
#include "services/gateway/routes.h"

namespace granary::gateway {

struct ProxyDeps {
  auth::Authenticator* authenticator = nullptr;
  Authorizer* authorizer = nullptr;
  const auth::CallerSigner* signer = nullptr;
  RateLimiter* limiter = nullptr;
  AuditLog* audit = nullptr;  // null: no audit
  // By Upstream.
  std::array<std::unique_ptr<grpc::GenericStub>, 4> stubs;
  const base::Clock* clock = &base::Clock::Real();
  // Spans of the HTTP routes (gRPC calls get theirs from the runtime). Null: none.
  trace::Tracer* tracer = nullptr;
};

// What a bearer token looks like in metadata or an HTTP header: "Bearer <token>" (any case of
// "bearer"); empty when there is none.
std::string BearerToken(absl::string_view authorization);

// A caller's x-request-id as audit lines keep it (cut to 128 characters).
std::string RequestIdOf(absl::string_view x_request_id);

// A caller's address without its port ("ipv4:10.0.0.7:53412" -> "ipv4:10.0.0.7"): what failed
// authentications are counted by.
std::string AddressOf(absl::string_view peer);
// Retry-After in whole seconds, at least 1.
int64_t RetryAfterSeconds(absl::Duration wait);

}  // namespace granary::gateway

#endif  // GRANARY_SERVICES_GATEWAY_PROXY_H_
