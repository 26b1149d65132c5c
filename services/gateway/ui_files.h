// The discovery UI's static files, served by the gateway at /ui: the page and its JavaScript
// modules (services/gateway/ui), and the Debian-packaged libraries it uses, read from where
// Debian puts them (libjs-bootstrap5, libjs-chart.js). Everything is read once at start-up, so a
// missing file stops the gateway with its path rather than breaking the page later.
#ifndef GRANARY_SERVICES_GATEWAY_UI_FILES_H_
#define GRANARY_SERVICES_GATEWAY_UI_FILES_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

#include "services/gateway/http_server.h"

namespace granary::gateway {

struct UiOptions {
  bool enabled = true;
  // A second address the HTTP door (UI and API alike) listens on, for browsers: Chrome and
  // Firefox refuse port 6566 (the SANE scanner port on their blocked list), Feast's HTTP port.
  // Empty: none.
  std::string address;
  // The UI's own files; empty: beside the binary (Bazel's runfiles), else /usr/share/granary/ui.
  std::string dir;
  // Debian's browser libraries.
  std::string vendor_dir = "/usr/share/javascript";
  // The authorization-code sign-in (PKCE) the page offers; empty client_id: none (tokens are
  // pasted). The issuer defaults to auth.issuer.
  std::string oidc_issuer;
  std::string oidc_client_id;
  std::string oidc_scope = "openid";
  // Origins besides the issuer's the page may fetch from: an issuer whose token endpoint is on
  // another origin (the page's CSP allows only these).
  std::vector<std::string> connect_origins;
  // The materializers' /metrics, for the health page.
  std::vector<std::string> metrics_urls;
  absl::Duration metrics_timeout = absl::Seconds(2);
};

class UiFiles {
 public:
  // NOT_FOUND naming the first file that is missing. `auth_type` ("jwt", "oidc", ...) goes into
  // /ui/config.json for the page.
  static absl::StatusOr<std::shared_ptr<const UiFiles>> Load(const UiOptions& options,
                                                             const std::string& auth_type);

  // The answer for a GET under /ui, or nullopt when `path` is not under /ui.
  std::optional<HttpResponse> Serve(absl::string_view path) const;

  // The vendor files the page loads, relative to vendor_dir.
  static const std::vector<std::string>& VendorFiles();

 private:
  struct File {
    std::string content_type;
    std::string body;
  };
  std::map<std::string, File, std::less<>> files_;  // by path under /ui/
  std::string csp_;
};

// Where the UI's files are when options.dir is empty.
std::string DefaultUiDir();

}  // namespace granary::gateway

#endif  // GRANARY_SERVICES_GATEWAY_UI_FILES_H_
