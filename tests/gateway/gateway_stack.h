// The example stack with every backend refusing calls that lack the gateway's signature, and
// a real gateway process in front: JWT with HS256 (a secret in a file) and RS256 (a JWKS
// file), an audit file, the HTTP door, and a rate-limited role. Tokens are minted here.
//
//   GatewayStack& stack = GatewayStack::Get();   // started once per test binary
//   grpc::ClientContext ctx;
//   stack.Authorize(ctx, stack.Token("ana", {"reader"}));
#ifndef GRANARY_TESTS_GATEWAY_GATEWAY_STACK_H_
#define GRANARY_TESTS_GATEWAY_GATEWAY_STACK_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"
#include "nlohmann/json.hpp"

#include "libs/auth/test_keys.h"
#include "libs/testing/temp_dir.h"
#include "libs/testing/test_stack.h"
#include "libs/trace/test_receiver.h"
#include "tests/gateway/test_idp.h"

namespace granary::testing {

inline constexpr char kIssuer[] = "granary-test";
inline constexpr char kAudience[] = "granary";

class GatewayStack {
 public:
  // Started on first use; ASSERTs inside tests check `ok()` first.
  static GatewayStack& Get();
  bool ok() const { return status_.ok(); }
  const absl::Status& status() const { return status_; }

  TestStack& stack() { return *stack_; }
  // The example repo as applied here (with this suite's extra permissions).
  const registry::v1::FeatureRepo& repo() const { return repo_; }
  TestService& gateway() { return *gateway_; }
  TestService& serving() { return *serving_; }
  TestService& ingestion() { return *ingestion_; }
  std::shared_ptr<grpc::Channel> channel() { return gateway_->channel(); }
  int http_port() const { return http_port_; }
  const std::string& signature_secret() const { return signature_secret_; }
  // The OTLP receiver every service of the stack exports its spans to.
  trace::TestReceiver& traces() { return *traces_; }
  const auth::test::TestKey& rsa_key() const { return rsa_; }
  const std::string& hs256_secret() const { return hs256_secret_; }
  // The identity provider the UI's sign-in goes to (client granary-ui): it signs in "olivia",
  // a reader, with an RS256 token the gateway accepts.
  TestIdp& idp() { return *idp_; }

  // An HS256 token from the gateway's secret, valid for an hour.
  std::string Token(const std::string& user, const std::vector<std::string>& roles,
                    const std::vector<std::string>& groups = {}) const;
  // A token with exactly these claims, signed HS256 with the gateway's secret.
  std::string Hs256(const nlohmann::json& claims) const;
  // Claims a good token has (sub, roles, iss, aud, iat, exp in an hour).
  static nlohmann::json GoodClaims(const std::string& user, const std::vector<std::string>& roles);

  static void Authorize(grpc::ClientContext& ctx, const std::string& token);

  // The audit file's lines whose request_id (the x-request-id sent) or trace_id is `id`.
  std::vector<nlohmann::json> AuditLines(const std::string& id) const;
  std::string AuditText() const;

 private:
  GatewayStack() = default;
  absl::Status Start();

  absl::Status status_;
  std::unique_ptr<TempDir> secrets_;
  // Before stack_: it outlives the services that send to it.
  std::unique_ptr<trace::TestReceiver> traces_;
  std::unique_ptr<TestIdp> idp_;
  std::unique_ptr<TestStack> stack_;
  registry::v1::FeatureRepo repo_;
  TestService* gateway_ = nullptr;
  TestService* serving_ = nullptr;
  TestService* ingestion_ = nullptr;
  TestService* materializer_ = nullptr;
  int http_port_ = 0;
  std::string hs256_secret_;
  std::string signature_secret_;
  std::string audit_path_;
  auth::test::TestKey rsa_;
};

}  // namespace granary::testing

#endif  // GRANARY_TESTS_GATEWAY_GATEWAY_STACK_H_
