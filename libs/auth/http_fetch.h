// A small HTTPS client (libcurl) for what authentication fetches: an OIDC discovery document
// and its JWKS, and Kubernetes TokenReview and RoleBinding calls; the gateway's reads of the
// materializers' metrics. Plain http:// is accepted only for loopback hosts (tests and a local
// identity provider) unless a request allows it.
#ifndef GRANARY_LIBS_AUTH_HTTP_FETCH_H_
#define GRANARY_LIBS_AUTH_HTTP_FETCH_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace granary::auth {

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  absl::Duration timeout = absl::Seconds(5);
  // A PEM bundle to verify the server with instead of the system's CAs (a cluster's ca.crt).
  std::string ca_file;
  // Plain http:// to any host, for what carries no secret either way (a service's /metrics
  // inside a cluster). Credentials still go over https only.
  bool allow_plain_http = false;
};

struct HttpResponse {
  long status = 0;
  std::string body;
};

// UNAVAILABLE when the server cannot be reached or does not answer in time (naming the URL
// without its query), INVALID_ARGUMENT for an http:// URL to a host other than loopback.
// Any HTTP status is returned as a response: callers decide what it means.
absl::StatusOr<HttpResponse> HttpFetch(const HttpRequest& request);

}  // namespace granary::auth

#endif  // GRANARY_LIBS_AUTH_HTTP_FETCH_H_
