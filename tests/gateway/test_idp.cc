#include "tests/gateway/test_idp.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include <openssl/sha.h>

namespace granary::testing {
namespace {

using json = nlohmann::json;

std::string S256(const std::string& verifier) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(verifier.data()), verifier.size(), digest);
  return auth::test::Base64Url(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

void AllowOrigin(const httplib::Request& req, httplib::Response& res) {
  if (req.has_header("Origin")) {
    res.set_header("Access-Control-Allow-Origin", req.get_header_value("Origin"));
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<TestIdp>> TestIdp::Start(TestIdpOptions options) {
  auto idp = std::unique_ptr<TestIdp>(new TestIdp(std::move(options)));
  idp->Routes();
  int port = idp->server_.bind_to_any_port("127.0.0.1");
  if (port <= 0) return absl::UnavailableError("test idp: cannot listen");
  idp->url_ = absl::StrCat("http://127.0.0.1:", port);
  idp->thread_ = std::thread([raw = idp.get()] { raw->server_.listen_after_bind(); });
  return idp;
}

TestIdp::~TestIdp() {
  server_.stop();
  if (thread_.joinable()) thread_.join();
}

std::vector<std::string> TestIdp::Refusals() {
  absl::MutexLock lock(&mu_);
  return refusals_;
}

int TestIdp::tokens_issued() {
  absl::MutexLock lock(&mu_);
  return issued_;
}

void TestIdp::Routes() {
  server_.Get("/.well-known/openid-configuration",
              [this](const httplib::Request& req, httplib::Response& res) {
                AllowOrigin(req, res);
                json doc = {{"issuer", url_},
                            {"authorization_endpoint", url_ + "/authorize"},
                            {"token_endpoint", url_ + "/token"},
                            {"code_challenge_methods_supported", {"S256"}}};
                res.set_content(doc.dump(), "application/json");
              });
  server_.Get("/authorize", [this](const httplib::Request& req, httplib::Response& res) {
    auto param = [&](const char* name) { return req.get_param_value(name); };
    if (param("response_type") != "code" || param("client_id") != options_.client_id ||
        param("code_challenge_method") != "S256" || param("code_challenge").empty() ||
        param("redirect_uri").empty() || param("state").empty()) {
      res.status = 400;
      res.set_content("bad authorization request", "text/plain");
      return;
    }
    const std::string code = absl::StrCat("code-", absl::ToUnixNanos(absl::Now()));
    {
      absl::MutexLock lock(&mu_);
      grants_[code] = {param("code_challenge"), param("redirect_uri")};
    }
    // The user is signed in at once: back to the client with the code and its state.
    res.set_redirect(
        absl::StrCat(param("redirect_uri"), "?code=", code, "&state=", param("state")));
  });
  server_.Post("/token", [this](const httplib::Request& req, httplib::Response& res) {
    AllowOrigin(req, res);
    auto refuse = [&](const std::string& why) {
      absl::MutexLock lock(&mu_);
      refusals_.push_back(why);
      res.status = 400;
      res.set_content(json({{"error", "invalid_grant"}, {"error_description", why}}).dump(),
                      "application/json");
    };
    auto param = [&](const char* name) { return req.get_param_value(name); };
    Grant grant;
    {
      absl::MutexLock lock(&mu_);
      auto it = grants_.find(param("code"));
      if (it == grants_.end()) {
        refusals_.push_back("unknown or used code");
        res.status = 400;
        return;
      }
      grant = it->second;
      grants_.erase(it);  // a code is good once
    }
    if (param("grant_type") != "authorization_code") return refuse("grant_type");
    if (param("client_id") != options_.client_id) return refuse("client_id");
    if (param("redirect_uri") != grant.redirect_uri) return refuse("redirect_uri");
    if (S256(param("code_verifier")) != grant.challenge) {
      return refuse("code_verifier does not match the challenge");
    }
    json claims = options_.user;
    const int64_t now = absl::ToUnixSeconds(absl::Now());
    claims["iss"] = options_.token_issuer;
    claims["aud"] = options_.token_audience;
    claims["iat"] = now;
    claims["exp"] = now + 600;
    auto token =
        auth::test::SignToken("RS256", options_.key.private_pem, claims.dump(), options_.key.kid);
    if (!token.ok()) return refuse(std::string(token.status().message()));
    {
      absl::MutexLock lock(&mu_);
      ++issued_;
    }
    res.set_content(
        json({{"access_token", *token}, {"token_type", "Bearer"}, {"expires_in", 600}}).dump(),
        "application/json");
  });
}

}  // namespace granary::testing
