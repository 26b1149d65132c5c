// The gateway's configuration (besides the shared `server:` section).
//
//   registry: {address: 127.0.0.1:6570, poll_interval: 30s}   # shared with the services
//   nats: {url: nats://127.0.0.1:4222}   # optional: permission changes apply at once
//   gateway:
//     project: driver_stats            # of requests that name none
//     projects: [driver_stats]         # watched from the start (others when first named)
//     upstreams: {serving: 127.0.0.1:6571, ingestion: 127.0.0.1:6572,
//                 materializer: 127.0.0.1:6573}
//     auth:
//       type: jwt                      # none | jwt | oidc | kubernetes
//       algorithms: [HS256]            # jwt/oidc: any of HS256, RS256, ES256
//       hs256_secret: {file: .granary/jwt.secret}
//       jwks_file: /etc/granary/jwks.json               # RS256/ES256 keys, or:
//       discovery_url: https://idp/realms/x/.well-known/openid-configuration
//       issuer: https://idp/realms/x   # checked when set; required for oidc
//       audiences: [granary]           # checked when set
//       leeway: 30s
//       claims: {roles: roles, client_id: granary, groups: groups,
//                user: [preferred_username, sub]}
//       none: {user: developer, roles: [writer]}        # the identity every caller gets
//       kubernetes: {api_server: https://kubernetes.default.svc, namespace: granary,
//                    cache_ttl: 60s, audiences: [granary-gateway]}
//     signature: {secret: {file: .granary/gateway.secret}, ttl: 60s}
//     audit: {path: stdout}            # stdout, a file, or "" for none
//     http: {address: 0.0.0.0:6566, threads: 32, max_body: 8MiB, timeout: 30s,
//            library: civetweb}     # or httplib (see README, "HTTP server")
//     grpc_threads: 1                  # default: half the CPUs this process may use
//     rate_limits:
//       default: {rate: 0, burst: 0}   # requests per second per user; 0: unlimited
//       roles: [{role: reader, rate: 500, burst: 1000}]   # the most generous role wins
//       failures: {rate: 20, burst: 100}   # failed authentications per client address
//     ui:                              # the discovery UI at /ui on the HTTP door
//       enabled: true
//       address: 0.0.0.0:6567          # browsers refuse 6566: the HTTP door here too
//       dir: ""                        # default: beside the binary, else /usr/share/granary/ui
//       vendor_dir: /usr/share/javascript   # Debian's libjs-bootstrap5 and libjs-chart.js
//       metrics: [http://127.0.0.1:9573/metrics]   # the materializers', for the health page;
//                                      # dns+http://host:9573/metrics: every address of host
//       metrics_timeout: 2s
//       oidc: {client_id: granary-ui, issuer: https://idp/realms/x, scope: openid,   # sign-in
//              connect: [https://oauth2.example]}   # a token endpoint off the issuer's origin
#ifndef GRANARY_SERVICES_GATEWAY_CONFIG_H_
#define GRANARY_SERVICES_GATEWAY_CONFIG_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

#include "libs/auth/auth_config.h"
#include "libs/auth/identity.h"
#include "libs/bus/options.h"
#include "libs/config/reader.h"
#include "libs/config/secret.h"
#include "libs/registry_client/registry_client.h"
#include "services/gateway/http_server.h"
#include "services/gateway/rate_limiter.h"
#include "services/gateway/ui_files.h"

namespace granary::gateway {

struct Upstreams {
  std::string registry;
  std::string serving;
  std::string ingestion;
  std::string materializer;
};

// How callers are authenticated (libs/auth/auth_config.h).
using auth::AuthConfig;

struct GatewayConfig {
  Upstreams upstreams;
  registry_client::ServedProjects projects;
  registry_client::RegistryClientOptions registry;
  AuthConfig auth;
  config::Secret signature_secret;
  absl::Duration signature_ttl = absl::Seconds(60);
  std::string audit_path = "stdout";
  RateLimitConfig rate_limits;
  std::optional<bus::NatsOptions> nats;
  // Empty address: no HTTP door.
  HttpServerOptions http;
  HttpLibrary http_library = HttpLibrary::kCivetweb;
  absl::Duration http_timeout = absl::Seconds(30);
  // Threads driving the completion queues every gRPC call is served on (generic_proxy.h,
  // unary_fast_path.h).
  int grpc_threads = 1;
  UiOptions ui;
};

GatewayConfig ReadGatewayConfig(config::Reader& root);

}  // namespace granary::gateway

#endif  // GRANARY_SERVICES_GATEWAY_CONFIG_H_
