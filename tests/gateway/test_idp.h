// An OpenID Connect provider for the UI's sign-in test: discovery, an authorization endpoint
// that signs in a fixed user at once (no login form) and sends the browser back with a code, and
// a token endpoint that gives an RS256 access token for that code only with the PKCE verifier
// whose S256 hash is the challenge the authorization request carried. It answers cross-origin
// requests from the gateway's UI the way identity providers do for a registered web origin.
#ifndef GRANARY_TESTS_GATEWAY_TEST_IDP_H_
#define GRANARY_TESTS_GATEWAY_TEST_IDP_H_

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "httplib.h"
#include "nlohmann/json.hpp"

#include "libs/auth/test_keys.h"

namespace granary::testing {

struct TestIdpOptions {
  auth::test::TestKey key;  // signs the tokens (RS256)
  std::string client_id;
  // The claims of the user it signs in (iss, aud, exp are added).
  nlohmann::json user;
  std::string token_issuer;
  std::string token_audience;
};

class TestIdp {
 public:
  static absl::StatusOr<std::unique_ptr<TestIdp>> Start(TestIdpOptions options);
  ~TestIdp();

  // http://127.0.0.1:port: the issuer's URL, where discovery is.
  const std::string& url() const { return url_; }
  // What the token endpoint refused, one line each ("code_verifier does not match", ...).
  std::vector<std::string> Refusals();
  int tokens_issued();

 private:
  explicit TestIdp(TestIdpOptions options) : options_(std::move(options)) {}
  void Routes();

  struct Grant {
    std::string challenge;
    std::string redirect_uri;
  };

  TestIdpOptions options_;
  httplib::Server server_;
  std::thread thread_;
  std::string url_;
  absl::Mutex mu_;
  std::map<std::string, Grant> grants_ ABSL_GUARDED_BY(mu_);  // by code
  std::vector<std::string> refusals_ ABSL_GUARDED_BY(mu_);
  int issued_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace granary::testing

#endif  // GRANARY_TESTS_GATEWAY_TEST_IDP_H_
