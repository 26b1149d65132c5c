#include "libs/auth/kubernetes_authenticator.h"

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"
#include <openssl/evp.h>

#include "libs/auth/http_fetch.h"
#include "libs/base/log.h"
#include "libs/base/status_macros.h"

namespace granary::auth {
namespace {

using json = nlohmann::json;

// Enough for every live caller of a large cluster; past it, a flood of distinct tokens empties
// the cache instead of growing the gateway without bound.
constexpr size_t kMaxCachedReviews = 10000;
// Service account tokens are JWTs of about 1 KiB; anything far bigger is not one.
constexpr size_t kMaxTokenBytes = 16 * 1024;
// While the API server fails, the RoleBinding list is asked for at most this often.
constexpr absl::Duration kBindingsRetryInterval = absl::Seconds(5);

absl::StatusOr<std::string> Sha256(absl::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    // Never fall back to another key: two tokens must never share a cache entry.
    return absl::InternalError("SHA-256 failed");
  }
  return std::string(reinterpret_cast<const char*>(digest), length);
}

// RFC 6750's b64token characters: JWTs and legacy tokens alike. Anything else is refused
// before it reaches the API server (or a JSON encoder that would reject invalid UTF-8).
bool IsTokenText(absl::string_view token) {
  return std::all_of(token.begin(), token.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
           absl::string_view("-._~+/=").find(c) != absl::string_view::npos;
  });
}

// A DNS-1123 label, as Kubernetes requires of namespaces: it goes into a URL path.
bool IsNamespaceName(absl::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  if (name.front() == '-' || name.back() == '-') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

// The `exp` of a JWT, read without verifying it. Used only after the API server accepted the
// token (so the claims are genuine), to keep a cached review from outliving the token.
std::optional<absl::Time> UnverifiedExpiry(absl::string_view token) {
  std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  if (parts.size() != 3) return std::nullopt;
  std::string payload;
  if (!absl::WebSafeBase64Unescape(parts[1], &payload)) return std::nullopt;
  json claims = json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (!claims.is_object()) return std::nullopt;
  auto exp = claims.find("exp");
  if (exp == claims.end() || !exp->is_number()) return std::nullopt;
  return absl::FromUnixSeconds(static_cast<int64_t>(exp->get<double>()));
}

const json* Member(const json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::string StringMember(const json& object, const char* key) {
  const json* value = Member(object, key);
  return value != nullptr && value->is_string() ? value->get<std::string>() : "";
}

}  // namespace

absl::StatusOr<std::unique_ptr<KubernetesAuthenticator>> KubernetesAuthenticator::Create(
    KubernetesOptions options, const base::Clock& clock) {
  while (absl::EndsWith(options.api_server, "/")) options.api_server.pop_back();
  if (options.api_server.empty()) {
    return absl::InvalidArgumentError("kubernetes.api_server is empty");
  }
  if (options.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("kubernetes.timeout must be positive");
  }
  if (options.cache_ttl < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("kubernetes.cache_ttl must not be negative");
  }
  ASSIGN_OR_RETURN(config::Secret token, config::Secret::FromFile(options.token_file));
  if (token.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("kubernetes.token_file ", options.token_file, " is empty"));
  }
  if (options.namespace_name.empty()) {
    // Mounted beside the token in every pod; not a secret, but read the same way.
    const std::string dir = options.token_file.substr(0, options.token_file.rfind('/') + 1);
    ASSIGN_OR_RETURN(config::Secret name, config::Secret::FromFile(dir + "namespace"));
    options.namespace_name = std::string(absl::StripAsciiWhitespace(name.value()));
  }
  if (!IsNamespaceName(options.namespace_name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("kubernetes.namespace is not a namespace name: ", options.namespace_name));
  }
  if (!options.ca_file.empty() && absl::StartsWith(options.api_server, "https://") &&
      !std::ifstream(options.ca_file).good()) {
    return absl::NotFoundError(
        absl::StrCat("kubernetes.ca_file ", options.ca_file, " cannot be read"));
  }
  return std::unique_ptr<KubernetesAuthenticator>(
      new KubernetesAuthenticator(std::move(options), clock, std::move(token)));
}

KubernetesAuthenticator::KubernetesAuthenticator(KubernetesOptions options,
                                                 const base::Clock& clock, config::Secret token)
    : options_(std::move(options)), clock_(clock), token_(std::move(token)) {}

absl::StatusOr<Identity> KubernetesAuthenticator::Authenticate(absl::string_view token) {
  if (token.empty()) return absl::UnauthenticatedError("no bearer token");
  if (token.size() > kMaxTokenBytes || !IsTokenText(token)) {
    return absl::UnauthenticatedError("malformed token");
  }
  ASSIGN_OR_RETURN(Review review, CachedReview(token));
  if (!review.authenticated) {
    return absl::UnauthenticatedError(
        review.error.empty()
            ? "token not accepted by the Kubernetes API server"
            : absl::StrCat("token not accepted by the Kubernetes API server: ", review.error));
  }
  Identity who{review.user, {}, review.groups};
  std::vector<absl::string_view> parts = absl::StrSplit(review.user, ':');
  if (parts.size() == 4 && parts[0] == "system" && parts[1] == "serviceaccount" &&
      !parts[2].empty() && !parts[3].empty()) {
    ASSIGN_OR_RETURN(std::shared_ptr<const RoleIndex> bindings, Bindings());
    auto it = bindings->find(absl::StrCat(parts[2], "/", parts[3]));
    if (it != bindings->end()) who.roles = it->second;
  }
  return who;
}

bool KubernetesAuthenticator::MayWait(absl::string_view token) {
  absl::StatusOr<std::string> key = Sha256(token);
  if (!key.ok()) return false;  // Authenticate refuses it without a fetch
  const absl::Time now = clock_.Now();
  {
    absl::ReaderMutexLock lock(&reviews_mu_);
    auto it = reviews_.find(*key);
    if (it == reviews_.end() || now >= it->second.expires) return true;
  }
  // As Bindings() decides: a held list that is fresh, being refreshed or recently tried.
  const absl::Duration retry = std::min(options_.cache_ttl, kBindingsRetryInterval);
  absl::ReaderMutexLock lock(&bindings_mu_);
  const bool recently_tried = now - bindings_attempted_at_ < retry;
  if (bindings_ != nullptr) {
    return !(now - bindings_fetched_at_ < options_.cache_ttl || bindings_fetching_ ||
             recently_tried);
  }
  return bindings_fetching_ || !recently_tried;
}

absl::StatusOr<KubernetesAuthenticator::Review> KubernetesAuthenticator::CachedReview(
    absl::string_view token) {
  ASSIGN_OR_RETURN(const std::string key, Sha256(token));
  const absl::Time now = clock_.Now();
  {
    absl::ReaderMutexLock lock(&reviews_mu_);
    auto it = reviews_.find(key);
    if (it != reviews_.end() && now < it->second.expires) return it->second;
  }
  // Failures to reach the API server are not cached: the next call tries again.
  ASSIGN_OR_RETURN(Review review, CallTokenReview(token));
  review.expires = now + options_.cache_ttl;
  if (review.authenticated) {
    if (std::optional<absl::Time> exp = UnverifiedExpiry(token)) {
      review.expires = std::min(review.expires, *exp);
    }
  }
  absl::MutexLock lock(&reviews_mu_);
  if (reviews_.size() >= kMaxCachedReviews) {
    for (auto it = reviews_.begin(); it != reviews_.end();) {
      if (it->second.expires <= now) {
        reviews_.erase(it++);
      } else {
        ++it;
      }
    }
    if (reviews_.size() >= kMaxCachedReviews) reviews_.clear();
  }
  reviews_[key] = review;
  return review;
}

absl::StatusOr<KubernetesAuthenticator::Review> KubernetesAuthenticator::CallTokenReview(
    absl::string_view token) {
  json request = {{"apiVersion", "authentication.k8s.io/v1"},
                  {"kind", "TokenReview"},
                  {"spec", {{"token", std::string(token)}}}};
  if (!options_.audiences.empty()) request["spec"]["audiences"] = options_.audiences;
  ASSIGN_OR_RETURN(std::string text,
                   CallApi("POST", "/apis/authentication.k8s.io/v1/tokenreviews",
                           request.dump(-1, ' ', false, json::error_handler_t::replace),
                           "create on tokenreviews.authentication.k8s.io (cluster-wide, e.g. the "
                           "system:auth-delegator ClusterRole)"));
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) {
    return absl::UnavailableError("Kubernetes API server: the TokenReview answer is not JSON");
  }
  Review review;
  const json* status = Member(doc, "status");
  if (status == nullptr) return review;  // No status: nothing was established.
  const json* authenticated = Member(*status, "authenticated");
  review.authenticated =
      authenticated != nullptr && authenticated->is_boolean() && authenticated->get<bool>();
  review.error = StringMember(*status, "error");
  // The API server's reason could quote what it was given; the token never goes into a reply.
  absl::StrReplaceAll({{token, "<token>"}}, &review.error);
  if (review.error.size() > 200) review.error = review.error.substr(0, 200) + "...";
  if (const json* user = Member(*status, "user"); user != nullptr) {
    review.user = StringMember(*user, "username");
    if (const json* groups = Member(*user, "groups"); groups != nullptr && groups->is_array()) {
      for (const json& group : *groups) {
        if (group.is_string()) review.groups.push_back(group.get<std::string>());
      }
    }
  }
  if (review.authenticated && review.user.empty()) {
    review.authenticated = false;
    review.error = "the review names no user";
  }
  return review;
}

absl::StatusOr<std::shared_ptr<const KubernetesAuthenticator::RoleIndex>>
KubernetesAuthenticator::Bindings() {
  const absl::Duration retry = std::min(options_.cache_ttl, kBindingsRetryInterval);
  {
    const absl::Time now = clock_.Now();
    absl::ReaderMutexLock lock(&bindings_mu_);
    // Callers never wait on a list while a usable one is held: a stale list serves until the
    // refresh in flight (or the next allowed one) replaces it.
    if (bindings_ != nullptr && (now - bindings_fetched_at_ < options_.cache_ttl ||
                                 bindings_fetching_ || now - bindings_attempted_at_ < retry)) {
      return bindings_;
    }
    if (bindings_ == nullptr && !bindings_fetching_ && now - bindings_attempted_at_ < retry) {
      return bindings_error_;
    }
  }
  absl::MutexLock serial(&bindings_refresh_mu_);
  const absl::Time now = clock_.Now();
  {
    absl::MutexLock lock(&bindings_mu_);
    // The list this caller waited for may have just arrived (or failed).
    if (now - bindings_attempted_at_ < retry ||
        (bindings_ != nullptr && now - bindings_fetched_at_ < options_.cache_ttl)) {
      if (bindings_ != nullptr) return bindings_;
      return bindings_error_;
    }
    bindings_fetching_ = true;
    bindings_attempted_at_ = now;
  }
  absl::StatusOr<std::shared_ptr<const RoleIndex>> fetched = FetchBindings();

  absl::MutexLock lock(&bindings_mu_);
  bindings_fetching_ = false;
  if (fetched.ok()) {
    bindings_ = *std::move(fetched);
    bindings_fetched_at_ = now;
    bindings_error_ = absl::OkStatus();
    return bindings_;
  }
  bindings_error_ = fetched.status();
  base::LogWarning(bindings_ != nullptr
                       ? "RoleBinding refresh failed; keeping the list held"
                       : "RoleBinding list failed; service accounts cannot sign in yet")
      .With("namespace", options_.namespace_name)
      .With("error", fetched.status());
  if (bindings_ != nullptr) return bindings_;
  return fetched.status();
}

absl::StatusOr<std::shared_ptr<const KubernetesAuthenticator::RoleIndex>>
KubernetesAuthenticator::FetchBindings() {
  const std::string& ns = options_.namespace_name;
  ASSIGN_OR_RETURN(
      std::string text,
      CallApi("GET",
              absl::StrCat("/apis/rbac.authorization.k8s.io/v1/namespaces/", ns, "/rolebindings"),
              "",
              absl::StrCat("list on rolebindings.rbac.authorization.k8s.io in namespace ", ns)));
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  const json* items = Member(doc, "items");
  if (items == nullptr || !(items->is_array() || items->is_null())) {
    return absl::UnavailableError(
        "Kubernetes API server: the RoleBinding list is not a RoleBindingList");
  }
  RoleIndex index;
  if (items->is_null()) return std::make_shared<const RoleIndex>();
  for (const json& binding : *items) {
    const json* role_ref = Member(binding, "roleRef");
    // A RoleBinding may also grant a ClusterRole ("view", "edit"); only Roles of this
    // namespace name Granary roles, so cluster-wide defaults never turn into permissions.
    if (role_ref == nullptr || StringMember(*role_ref, "kind") != "Role") continue;
    const std::string role = StringMember(*role_ref, "name");
    const json* subjects = Member(binding, "subjects");
    if (role.empty() || subjects == nullptr || !subjects->is_array()) continue;
    std::string binding_ns = ns;
    if (const json* metadata = Member(binding, "metadata"); metadata != nullptr) {
      if (std::string n = StringMember(*metadata, "namespace"); !n.empty()) binding_ns = n;
    }
    for (const json& subject : *subjects) {
      if (StringMember(subject, "kind") != "ServiceAccount") continue;
      const std::string name = StringMember(subject, "name");
      if (name.empty()) continue;
      std::string subject_ns = StringMember(subject, "namespace");
      if (subject_ns.empty()) subject_ns = binding_ns;
      index[absl::StrCat(subject_ns, "/", name)].push_back(role);
    }
  }
  for (auto& [account, roles] : index) {
    std::sort(roles.begin(), roles.end());
    roles.erase(std::unique(roles.begin(), roles.end()), roles.end());
  }
  return std::make_shared<const RoleIndex>(std::move(index));
}

absl::StatusOr<std::string> KubernetesAuthenticator::CallApi(absl::string_view method,
                                                             const std::string& path,
                                                             std::string body,
                                                             absl::string_view needs) {
  HttpRequest request{.method = std::string(method),
                      .url = options_.api_server + path,
                      .body = std::move(body),
                      .timeout = options_.timeout,
                      .ca_file = options_.ca_file};
  for (int attempt = 0;; ++attempt) {
    request.headers = {{"Authorization", absl::StrCat("Bearer ", GatewayToken())},
                       {"Accept", "application/json"}};
    if (!request.body.empty()) request.headers.emplace_back("Content-Type", "application/json");
    absl::StatusOr<HttpResponse> response = HttpFetch(request);
    if (!response.ok()) {
      return absl::UnavailableError(
          absl::StrCat("Kubernetes API server: ", response.status().message()));
    }
    const long status = response->status;
    // The kubelet rotates the mounted token; a 401 may only mean this copy expired.
    if (status == 401 && attempt == 0 && ReloadGatewayToken()) continue;
    if (status == 401 || status == 403) {
      return absl::UnavailableError(absl::StrCat(
          "the Kubernetes API server refused the gateway's own credentials (HTTP ", status,
          ") for ", method, " ", path, ": ",
          status == 401 ? absl::StrCat("the token in ", options_.token_file, " is not accepted")
                        : absl::StrCat("its service account needs ", needs)));
    }
    if (status < 200 || status >= 300) {
      return absl::UnavailableError(
          absl::StrCat("Kubernetes API server: ", method, " ", path, ": HTTP ", status));
    }
    return std::move(response->body);
  }
}

std::string KubernetesAuthenticator::GatewayToken() const {
  absl::MutexLock lock(&token_mu_);
  return token_.value();
}

bool KubernetesAuthenticator::ReloadGatewayToken() {
  absl::StatusOr<config::Secret> fresh = config::Secret::FromFile(options_.token_file);
  if (!fresh.ok()) {
    base::LogWarning("cannot re-read the gateway's service account token")
        .With("path", options_.token_file)
        .With("error", fresh.status());
    return false;
  }
  absl::MutexLock lock(&token_mu_);
  if (fresh->empty() || fresh->value() == token_.value()) return false;
  token_ = *std::move(fresh);
  base::LogInfo("re-read the gateway's service account token after a 401")
      .With("path", options_.token_file);
  return true;
}

}  // namespace granary::auth
