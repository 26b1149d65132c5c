#include "libs/auth/oidc_key_source.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

#include "libs/auth/http_fetch.h"
#include "libs/base/log.h"
#include "libs/base/status_macros.h"

namespace granary::auth {
namespace {

using json = nlohmann::json;

// What messages and logs may show of a URL: a query could carry a credential.
std::string Display(const std::string& url) { return url.substr(0, url.find_first_of("?#")); }

absl::Status Unavailable(absl::string_view what, const std::string& url, absl::string_view why) {
  return absl::UnavailableError(absl::StrCat(what, " ", Display(url), ": ", why));
}

absl::StatusOr<std::string> Get(absl::string_view what, const std::string& url,
                                const OidcOptions& options) {
  auto response = HttpFetch({.url = url,
                             .headers = {{"Accept", "application/json"}},
                             .timeout = options.timeout,
                             .ca_file = options.ca_file});
  if (!response.ok()) {
    // An http:// jwks_uri to a remote host (INVALID_ARGUMENT) is the issuer's fault too.
    return absl::UnavailableError(absl::StrCat(what, ": ", response.status().message()));
  }
  if (response->status != 200) {
    return Unavailable(what, url, absl::StrCat("HTTP ", response->status));
  }
  return std::move(response->body);
}

}  // namespace

OidcKeySource::OidcKeySource(OidcOptions options, const base::Clock& clock)
    : options_(std::move(options)), clock_(clock) {}

std::string OidcKeySource::issuer() const {
  absl::ReaderMutexLock lock(&mu_);
  return issuer_;
}

absl::StatusOr<std::shared_ptr<const KeySet>> OidcKeySource::Keys() {
  {
    const absl::Time now = clock_.Now();
    absl::ReaderMutexLock lock(&mu_);
    // Fresh keys, or stale ones while a fetch is not yet allowed or already running: the
    // verification path never waits on the network when it holds keys.
    if (keys_ != nullptr && (now - fetched_at_ < options_.cache_ttl || fetching_ ||
                             !DueLocked(now, /*unknown_kid=*/false))) {
      return keys_;
    }
    if (keys_ == nullptr && !fetching_ && !DueLocked(now, /*unknown_kid=*/false)) {
      return HeldLocked();
    }
  }
  return Refresh(/*unknown_kid=*/false);
}

bool OidcKeySource::MayWait(absl::string_view kid, absl::string_view alg) const {
  const absl::Time now = clock_.Now();
  absl::ReaderMutexLock lock(&mu_);
  // As Keys() decides, then KeysAfterUnknownKid() for a kid the held keys lack.
  if (keys_ == nullptr) return fetching_ || DueLocked(now, /*unknown_kid=*/false);
  if (!(now - fetched_at_ < options_.cache_ttl || fetching_ ||
        !DueLocked(now, /*unknown_kid=*/false))) {
    return true;
  }
  if (keys_->Find(kid, alg) != nullptr) return false;
  return fetching_ || DueLocked(now, /*unknown_kid=*/true);
}

absl::StatusOr<std::shared_ptr<const KeySet>> OidcKeySource::KeysAfterUnknownKid() {
  {
    const absl::Time now = clock_.Now();
    absl::ReaderMutexLock lock(&mu_);
    // A fetch in flight may bring the kid: wait for it in Refresh rather than answer now.
    if (!fetching_ && !DueLocked(now, /*unknown_kid=*/true)) return HeldLocked();
  }
  return Refresh(/*unknown_kid=*/true);
}

absl::StatusOr<std::shared_ptr<const KeySet>> OidcKeySource::HeldLocked() const {
  if (keys_ != nullptr) return keys_;
  if (!last_error_.ok()) return last_error_;
  return absl::UnavailableError(
      absl::StrCat("no keys fetched yet from ", Display(options_.discovery_url)));
}

bool OidcKeySource::DueLocked(absl::Time now, bool unknown_kid) const {
  if (now - attempted_at_ < options_.min_refresh_interval) return false;
  if (unknown_kid || keys_ == nullptr) return true;
  return now - fetched_at_ >= options_.cache_ttl;
}

absl::StatusOr<std::shared_ptr<const KeySet>> OidcKeySource::Refresh(bool unknown_kid) {
  absl::MutexLock serial(&refresh_mu_);
  const absl::Time now = clock_.Now();
  {
    absl::MutexLock lock(&mu_);
    // Another caller's fetch may have finished while this one waited for refresh_mu_.
    if (!DueLocked(now, unknown_kid)) return HeldLocked();
    fetching_ = true;
    attempted_at_ = now;
  }
  // An unknown kid means the issuer rotated keys, which changes the JWKS, not the discovery
  // document; when the keys merely aged, both are fetched again.
  absl::StatusOr<Fetched> fetched = Fetch(/*with_discovery=*/!unknown_kid);

  absl::MutexLock lock(&mu_);
  fetching_ = false;
  if (fetched.ok()) {
    keys_ = std::move(fetched->keys);
    issuer_ = std::move(fetched->issuer);
    fetched_at_ = now;
    last_error_ = absl::OkStatus();
    return keys_;
  }
  last_error_ = fetched.status();
  base::LogWarning(keys_ != nullptr ? "OIDC key refresh failed; keeping the keys held"
                                    : "OIDC key fetch failed; tokens cannot be verified yet")
      .With("discovery_url", Display(options_.discovery_url))
      .With("error", fetched.status())
      .With("retry_in", options_.min_refresh_interval);
  return HeldLocked();
}

absl::StatusOr<OidcKeySource::Fetched> OidcKeySource::Fetch(bool with_discovery) {
  if (with_discovery || jwks_uri_.empty()) {
    const std::string& url = options_.discovery_url;
    ASSIGN_OR_RETURN(std::string body, Get("OIDC discovery", url, options_));
    json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (!doc.is_object()) {
      return Unavailable("OIDC discovery", url, "not a JSON object");
    }
    auto jwks_uri = doc.find("jwks_uri");
    if (jwks_uri == doc.end() || !jwks_uri->is_string() || jwks_uri->get<std::string>().empty()) {
      return Unavailable("OIDC discovery", url, "no jwks_uri");
    }
    auto issuer = doc.find("issuer");
    if (issuer == doc.end() || !issuer->is_string() || issuer->get<std::string>().empty()) {
      return Unavailable("OIDC discovery", url, "no issuer");
    }
    if (!options_.expected_issuer.empty() &&
        issuer->get<std::string>() != options_.expected_issuer) {
      return Unavailable("OIDC discovery", url,
                         absl::StrCat("names issuer '", issuer->get<std::string>(),
                                      "', not the configured '", options_.expected_issuer, "'"));
    }
    jwks_uri_ = jwks_uri->get<std::string>();
    issuer_from_discovery_ = issuer->get<std::string>();
  }

  ASSIGN_OR_RETURN(std::string body, Get("OIDC JWKS", jwks_uri_, options_));
  absl::StatusOr<KeySet> keys = ParseJwks(body);
  if (!keys.ok()) return Unavailable("OIDC JWKS", jwks_uri_, keys.status().message());
  if (keys->keys.empty()) {
    return Unavailable("OIDC JWKS", jwks_uri_, "no RS256 or ES256 signing key");
  }
  return Fetched{std::make_shared<const KeySet>(*std::move(keys)), issuer_from_discovery_};
}

}  // namespace granary::auth
