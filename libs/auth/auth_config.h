// How the gateway authenticates callers: the `gateway.auth` config section, read by the
// gateway and checked by `granary verify` with the same rules.
//
//   auth:
//     type: jwt                      # none | jwt | oidc | kubernetes
//     algorithms: [HS256]            # jwt/oidc: any of HS256, RS256, ES256
//     hs256_secret: {file: .granary/jwt.secret}
//     jwks_file: /etc/granary/jwks.json               # RS256/ES256 keys, or:
//     discovery_url: https://idp/realms/x/.well-known/openid-configuration
//     issuer: https://idp/realms/x   # checked when set; required for oidc
//     (services/gateway/config.h has the rest)
#ifndef GRANARY_LIBS_AUTH_AUTH_CONFIG_H_
#define GRANARY_LIBS_AUTH_AUTH_CONFIG_H_

#include <string>
#include <vector>

#include "absl/time/time.h"

#include "libs/auth/identity.h"
#include "libs/config/reader.h"
#include "libs/config/secret.h"

namespace granary::auth {

struct AuthConfig {
  std::string type = "none";
  std::vector<std::string> algorithms;
  config::Secret hs256_secret;
  std::string jwks_file;
  std::string discovery_url;
  std::string issuer;
  std::vector<std::string> audiences;
  absl::Duration leeway = absl::Seconds(30);
  std::string roles_claim = "roles";
  std::string client_id;
  std::string groups_claim = "groups";
  std::vector<std::string> user_claims = {"preferred_username", "sub"};
  Identity none_identity;
  std::string k8s_api_server = "https://kubernetes.default.svc";
  std::string k8s_token_file = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  std::string k8s_ca_file = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
  std::string k8s_namespace;
  absl::Duration k8s_cache_ttl = absl::Seconds(60);
  std::vector<std::string> k8s_audiences;
};

// Reads the section; problems are recorded in the reader.
AuthConfig ReadAuthConfig(config::Reader section);

}  // namespace granary::auth

#endif  // GRANARY_LIBS_AUTH_AUTH_CONFIG_H_
