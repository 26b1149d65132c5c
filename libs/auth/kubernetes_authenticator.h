// Kubernetes service-account authentication (Feast's `kubernetes` auth mode): a caller sends
// its service account token; the API server's TokenReview says whose it is, and the Roles
// bound to that service account by RoleBindings in the gateway's namespace are its roles.
//
//   ASSIGN_OR_RETURN(auto authenticator,
//                    KubernetesAuthenticator::Create({.namespace_name = "granary"}));
//   ASSIGN_OR_RETURN(Identity who, authenticator->Authenticate(bearer_token));
//   // who.user == "system:serviceaccount:ml:trainer", who.roles == {"feature-reader"}
//
// The gateway calls the API server with its own service account token, so that account needs
// (a Role in the gateway's namespace plus a ClusterRole, bound to it):
//   - apiGroups [authentication.k8s.io], resources [tokenreviews], verbs [create]
//     (cluster-scoped: a ClusterRole and ClusterRoleBinding, e.g. system:auth-delegator);
//   - apiGroups [rbac.authorization.k8s.io], resources [rolebindings], verbs [list]
//     in the gateway's namespace (a Role and RoleBinding).
//
// Reviews are cached per token (by its SHA-256, never the token) and the RoleBinding list for
// cache_ttl, so a busy gateway makes about one call per caller and one list per TTL; a
// revoked token or binding can therefore still be honoured for up to cache_ttl.
#ifndef GRANARY_LIBS_AUTH_KUBERNETES_AUTHENTICATOR_H_
#define GRANARY_LIBS_AUTH_KUBERNETES_AUTHENTICATOR_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

#include "libs/auth/authenticator.h"
#include "libs/auth/identity.h"
#include "libs/base/clock.h"
#include "libs/config/secret.h"

namespace granary::auth {

struct KubernetesOptions {
  // https only, except loopback (tests).
  std::string api_server = "https://kubernetes.default.svc";
  // The gateway's own token, sent as its bearer token; read again when the API server answers
  // 401, since the kubelet rotates it.
  std::string token_file = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  // The cluster's CA; empty for the system's CAs.
  std::string ca_file = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
  // Where the RoleBindings are read: the gateway's namespace. Empty: the `namespace` file
  // beside token_file (as mounted into every pod).
  std::string namespace_name;
  // How long a TokenReview result and the RoleBinding list are reused. Zero: not at all.
  absl::Duration cache_ttl = absl::Seconds(60);
  // For each call to the API server.
  absl::Duration timeout = absl::Seconds(5);
  // The audiences a caller's token must be meant for (TokenReview spec.audiences): set them
  // (and have callers use projected tokens with that audience) so that a token meant for
  // another service cannot be replayed here. Empty: the API server's own audience.
  std::vector<std::string> audiences;
};

class KubernetesAuthenticator : public Authenticator {
 public:
  // Reads the token (and namespace) files now. NOT_FOUND / PERMISSION_DENIED naming the file
  // that cannot be read, INVALID_ARGUMENT naming the option that cannot work. Calls nothing
  // yet. `clock` must outlive the authenticator.
  static absl::StatusOr<std::unique_ptr<KubernetesAuthenticator>> Create(
      KubernetesOptions options, const base::Clock& clock = base::Clock::Real());

  // UNAUTHENTICATED when there is no token or the API server does not accept it (with the
  // API server's reason). UNAVAILABLE when the API server cannot be reached, fails, or
  // refuses the gateway's own credentials (401/403: the caller is not at fault). Only
  // "system:serviceaccount:<ns>:<name>" users get roles; any authenticated user gets groups.
  absl::StatusOr<Identity> Authenticate(absl::string_view token) override;
  // False only when the token's review is held and fresh and the RoleBindings need no fetch.
  bool MayWait(absl::string_view token) override;

 private:
  struct Review {
    bool authenticated = false;
    std::string user;
    std::vector<std::string> groups;
    std::string error;  // The API server's reason for refusing, token removed.
    absl::Time expires;
  };
  // Service account ("<namespace>/<name>") -> its roles, sorted.
  using RoleIndex = absl::flat_hash_map<std::string, std::vector<std::string>>;

  KubernetesAuthenticator(KubernetesOptions options, const base::Clock& clock,
                          config::Secret token);

  absl::StatusOr<Review> CachedReview(absl::string_view token);
  absl::StatusOr<Review> CallTokenReview(absl::string_view token);
  absl::StatusOr<std::shared_ptr<const RoleIndex>> Bindings()
      ABSL_LOCKS_EXCLUDED(bindings_refresh_mu_, bindings_mu_);
  absl::StatusOr<std::shared_ptr<const RoleIndex>> FetchBindings();

  // The API server's answer (2xx, a JSON object), retrying once with a re-read token on 401.
  // `needs` says what the gateway's account must be allowed, for the 403 message.
  absl::StatusOr<std::string> CallApi(absl::string_view method, const std::string& path,
                                      std::string body, absl::string_view needs);
  std::string GatewayToken() const ABSL_LOCKS_EXCLUDED(token_mu_);
  // True when the file now holds a different token than the one in use.
  bool ReloadGatewayToken() ABSL_LOCKS_EXCLUDED(token_mu_);

  const KubernetesOptions options_;
  const base::Clock& clock_;

  mutable absl::Mutex token_mu_;
  config::Secret token_ ABSL_GUARDED_BY(token_mu_);

  absl::Mutex reviews_mu_;
  // Keyed by the token's SHA-256: a memory dump or a debugger shows no usable token.
  absl::flat_hash_map<std::string, Review> reviews_ ABSL_GUARDED_BY(reviews_mu_);

  // Serializes RoleBinding lists; callers that waited find the list fresh.
  absl::Mutex bindings_refresh_mu_ ABSL_ACQUIRED_BEFORE(bindings_mu_);
  mutable absl::Mutex bindings_mu_;
  std::shared_ptr<const RoleIndex> bindings_ ABSL_GUARDED_BY(bindings_mu_);
  absl::Time bindings_fetched_at_ ABSL_GUARDED_BY(bindings_mu_) = absl::InfinitePast();
  absl::Time bindings_attempted_at_ ABSL_GUARDED_BY(bindings_mu_) = absl::InfinitePast();
  bool bindings_fetching_ ABSL_GUARDED_BY(bindings_mu_) = false;
  absl::Status bindings_error_ ABSL_GUARDED_BY(bindings_mu_);
};

}  // namespace granary::auth

#endif  // GRANARY_LIBS_AUTH_KUBERNETES_AUTHENTICATOR_H_
