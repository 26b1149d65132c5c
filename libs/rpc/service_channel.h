// A service's own calls to other Granary services (serving, ingestion and the materializer
// reading the registry; the materializer recording intervals there), signed the way the
// gateway signs what it forwards (libs/auth/caller_signature.h), so that a backend requiring
// the gateway's signature (server.gateway_signature.required) answers them too. Services share
// the gateway's secret; each signs as the user "service:<name>" with the role kServiceRole.
// An interceptor on the channel signs every call for the exact method it travels under, when
// the call starts, valid for kServiceSignatureTtl: call sites do nothing.
//
//   ServiceCaller caller{.service = "serving", .secret = server_config.gateway_signature.secret};
//   std::shared_ptr<grpc::Channel> channel = rpc::ServiceChannel("127.0.0.1:6570", caller);
//   RegistryService::NewStub(channel)->GetSnapshot(&ctx, request, &response);  // signed
//
// In a service's build function, ServiceHost::service_caller() is this process's caller.
#ifndef GRANARY_LIBS_RPC_SERVICE_CHANNEL_H_
#define GRANARY_LIBS_RPC_SERVICE_CHANNEL_H_

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

#include "libs/auth/identity.h"
#include "libs/base/clock.h"
#include "libs/config/secret.h"

namespace grpc {
class Channel;
}

namespace granary::rpc {

// The role every service's own calls carry (what a permission could name).
inline constexpr char kServiceRole[] = "granary-service";
// How long a service's signature holds: each call is signed as it starts, so this only has to
// cover the clock difference between hosts and a call waiting for its connection; a captured
// header is worthless soon after (and only ever for the method it was signed for).
inline constexpr absl::Duration kServiceSignatureTtl = absl::Seconds(60);

// Who this process is when it calls another service.
struct ServiceCaller {
  // The service's name ("serving"): calls are signed as the user "service:<service>".
  std::string service;
  // The key shared with the gateway (server.gateway_signature's). Empty: calls go unsigned,
  // as backends that require no signature take them.
  config::Secret secret;
  // Where "now" comes from for the expiry (tests pin it); outlives the channels made with it.
  const base::Clock* clock = &base::Clock::Real();
};

// {user: "service:<service>", roles: [kServiceRole]}.
auth::Identity ServiceIdentity(absl::string_view service);

// InsecureChannel(address) (libs/rpc/health.h) whose every call carries `caller`'s identity
// signed for the method called, when `caller` has a secret; a plain InsecureChannel without.
// A call that already carries a signature (one made for a user) keeps it.
std::shared_ptr<grpc::Channel> ServiceChannel(const std::string& address,
                                              const ServiceCaller& caller);

}  // namespace granary::rpc

#endif  // GRANARY_LIBS_RPC_SERVICE_CHANNEL_H_
