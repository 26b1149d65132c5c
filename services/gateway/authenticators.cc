#include "services/gateway/authenticators.h"

#include "libs/auth/jwks_file.h"
#include "libs/auth/jwt_authenticator.h"
#include "libs/auth/kubernetes_authenticator.h"
#include "libs/auth/oidc_key_source.h"
#include "services/gateway/token_cache.h"

namespace granary::gateway {

absl::StatusOr<std::unique_ptr<auth::Authenticator>> MakeAuthenticator(const AuthConfig& config) {
  if (config.type == "none") return std::make_unique<FixedIdentity>(config.none_identity);
  if (config.type == "kubernetes") {
    auth::KubernetesOptions options;
    options.api_server = config.k8s_api_server;
    options.token_file = config.k8s_token_file;
    options.ca_file = config.k8s_ca_file;
    options.namespace_name = config.k8s_namespace;
    options.cache_ttl = config.k8s_cache_ttl;
    options.audiences = config.k8s_audiences;
    auto authenticator = auth::KubernetesAuthenticator::Create(options, base::Clock::Real());
    if (!authenticator.ok()) return authenticator.status();
    return std::unique_ptr<auth::Authenticator>(std::move(*authenticator));
  }
  auth::JwtOptions options;
  options.algorithms = config.algorithms;
  options.hs256_secret = config.hs256_secret;
  if (!config.jwks_file.empty()) {
    auto keys = auth::JwksFileSource::Open(config.jwks_file);
    if (!keys.ok()) return keys.status();
    options.keys = std::shared_ptr<auth::KeySource>(std::move(*keys));
  } else if (!config.discovery_url.empty()) {
    auth::OidcOptions oidc;
    oidc.discovery_url = config.discovery_url;
    oidc.expected_issuer = config.issuer;
    options.keys = std::make_shared<auth::OidcKeySource>(oidc, base::Clock::Real());
  }
  options.issuer = config.issuer;
  options.audiences = config.audiences;
  options.leeway = config.leeway;
  options.claims.roles_claim = config.roles_claim;
  options.claims.client_id = config.client_id;
  options.claims.groups_claim = config.groups_claim;
  options.claims.user_claims = config.user_claims;
  auto authenticator = auth::JwtAuthenticator::Create(std::move(options));
  if (!authenticator.ok()) return authenticator.status();
  return std::unique_ptr<auth::Authenticator>(
      std::make_unique<TokenCache>(std::move(*authenticator), base::Clock::Real()));
}

}  // namespace granary::gateway
