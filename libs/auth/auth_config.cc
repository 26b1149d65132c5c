#include "libs/auth/auth_config.h"

namespace granary::auth {

AuthConfig ReadAuthConfig(config::Reader section) {
  AuthConfig c;
  c.type = section.String("type", "none");
  if (c.type != "none" && c.type != "jwt" && c.type != "oidc" && c.type != "kubernetes") {
    section.AddError("type", "expected none, jwt, oidc or kubernetes");
  }
  c.algorithms = section.StringList("algorithms");
  c.hs256_secret = section.SecretValue("hs256_secret");
  c.jwks_file = section.String("jwks_file", "");
  c.discovery_url = section.String("discovery_url", "");
  c.issuer = section.String("issuer", "");
  c.audiences = section.StringList("audiences");
  c.leeway = section.Duration("leeway", c.leeway, absl::ZeroDuration(), absl::Minutes(10));
  config::Reader claims = section.Section("claims");
  c.roles_claim = claims.String("roles", c.roles_claim);
  c.client_id = claims.String("client_id", "");
  c.groups_claim = claims.String("groups", c.groups_claim);
  if (claims.Has("user")) c.user_claims = claims.StringList("user");
  config::Reader none = section.Section("none");
  c.none_identity.user = none.String("user", "developer");
  c.none_identity.roles = none.StringList("roles");
  c.none_identity.groups = none.StringList("groups");
  config::Reader k8s = section.Section("kubernetes");
  c.k8s_api_server = k8s.String("api_server", c.k8s_api_server);
  c.k8s_token_file = k8s.String("token_file", c.k8s_token_file);
  c.k8s_ca_file = k8s.String("ca_file", c.k8s_ca_file);
  c.k8s_namespace = k8s.String("namespace", "");
  c.k8s_cache_ttl = k8s.Duration("cache_ttl", c.k8s_cache_ttl, absl::Seconds(1), absl::Hours(1));
  c.k8s_audiences = k8s.StringList("audiences");

  if (c.type == "jwt" || c.type == "oidc") {
    if (c.algorithms.empty()) section.AddError("algorithms", "required for jwt and oidc");
    bool asymmetric = false;
    for (const std::string& alg : c.algorithms) {
      if (alg == "HS256") {
        if (c.hs256_secret.empty()) section.AddError("hs256_secret", "required with HS256");
      } else if (alg == "RS256" || alg == "ES256") {
        asymmetric = true;
      } else {
        section.AddError("algorithms", "each must be HS256, RS256 or ES256");
      }
    }
    if (asymmetric && c.jwks_file.empty() == c.discovery_url.empty()) {
      section.AddError("jwks_file", "RS256/ES256 need exactly one of jwks_file, discovery_url");
    }
    if (c.type == "oidc" && c.issuer.empty()) section.AddError("issuer", "required for oidc");
  }
  return c;
}

}  // namespace granary::auth
