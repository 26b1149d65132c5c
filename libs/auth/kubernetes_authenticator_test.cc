#include "libs/auth/kubernetes_authenticator.h"

#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

#include "libs/auth/test_http_server.h"
#include "libs/base/clock.h"
#include "libs/testing/status_matchers.h"
#include "libs/testing/temp_dir.h"

namespace granary::auth {
namespace {

using ::granary::testing::StatusIs;
using ::granary::testing::TempDir;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using json = nlohmann::json;

constexpr char kReviewPath[] = "/apis/authentication.k8s.io/v1/tokenreviews";
constexpr char kBindingsPath[] =
    "/apis/rbac.authorization.k8s.io/v1/namespaces/granary/rolebindings";
constexpr char kTrainerToken[] = "trainer-token";
constexpr char kOtherToken[] = "other-token";

// A RoleBindingList as the API server sends it (fields the authenticator ignores included).
std::string Binding(const std::string& name, const std::string& role_kind, const std::string& role,
                    const std::string& subjects) {
  return absl::StrCat(R"({"metadata": {"name": ")", name,
                      R"(", "namespace": "granary", "uid": "u-)", name,
                      R"("}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": ")",
                      role_kind, R"(", "name": ")", role, R"("}, "subjects": [)", subjects, "]}");
}
std::string Sa(const std::string& name, const std::string& ns = "ml") {
  if (ns.empty()) return absl::StrCat(R"({"kind": "ServiceAccount", "name": ")", name, R"("})");
  return absl::StrCat(R"({"kind": "ServiceAccount", "name": ")", name, R"(", "namespace": ")", ns,
                      R"("})");
}
std::string BindingList(const std::vector<std::string>& items) {
  return absl::StrCat(
      R"({"kind": "RoleBindingList", "apiVersion": "rbac.authorization.k8s.io/v1", )",
      R"("metadata": {"resourceVersion": "42"}, "items": [)", absl::StrJoin(items, ", "), "]}");
}

std::string DefaultBindings() {
  return BindingList({
      Binding("readers", "Role", "feature-reader",
              absl::StrCat(Sa("trainer"), R"(, {"kind": "User", "name": "alice", )",
                           R"("apiGroup": "rbac.authorization.k8s.io"})")),
      Binding("writers", "Role", "feature-writer", absl::StrCat(Sa("trainer"), ", ", Sa("other"))),
      Binding("admins", "Role", "admin", Sa("other")),
      // Ignored for ml:trainer: a ClusterRole, a User named like the account, an account of
      // the same name in the binding's own namespace (no subject namespace).
      Binding("cluster-view", "ClusterRole", "view", Sa("trainer")),
      Binding("spoof", "Role", "spoofed",
              R"({"kind": "User", "name": "system:serviceaccount:ml:trainer"})"),
      Binding("local", "Role", "local-role", Sa("trainer", "")),
  });
}

class KubernetesAuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("k8s-auth"));
    dir_ = std::make_unique<TempDir>(std::move(dir));
    WriteFile("token", "gateway-token-1\n");
    WriteFile("namespace", "granary\n");
    ASSERT_OK_AND_ASSIGN(server_, TestHttpServer::Start());
    Accept(kTrainerToken, "system:serviceaccount:ml:trainer",
           {"system:serviceaccounts", "system:serviceaccounts:ml", "system:authenticated"});
    Accept(kOtherToken, "system:serviceaccount:ml:other", {"system:serviceaccounts"});
    Accept("alice-token", "alice", {"devs"});
    Accept("local-token", "system:serviceaccount:granary:trainer", {});
    server_->Handle("POST", kReviewPath, [this](const TestHttpRequest& r) { return Review(r); });
    ServeBindings(200, DefaultBindings());
    options_.api_server = server_->url();
    options_.token_file = dir_->path() + "/token";
    options_.ca_file = "";
  }

  void WriteFile(const std::string& name, const std::string& text) {
    std::ofstream(dir_->path() + "/" + name) << text;
  }
  void Accept(const std::string& token, const std::string& user, std::vector<std::string> groups) {
    absl::MutexLock lock(&mu_);
    users_[token] = {user, std::move(groups)};
  }
  void ServeBindings(int status, std::string body) {
    server_->Handle("GET", kBindingsPath, [this, status, body](const TestHttpRequest& r) {
      EXPECT_EQ(r.Header("Authorization"), absl::StrCat("Bearer ", GatewayToken()));
      return TestHttpResponse{status, body};
    });
  }
  std::string GatewayToken() {
    absl::MutexLock lock(&mu_);
    return gateway_token_;
  }

  // The API server's TokenReview: checks the gateway's credentials and the request's shape.
  TestHttpResponse Review(const TestHttpRequest& request) {
    absl::MutexLock lock(&mu_);
    if (request.Header("Authorization") != "Bearer " + gateway_token_) {
      return TestHttpResponse{401, R"({"kind": "Status", "code": 401})"};
    }
    EXPECT_EQ(request.Header("Content-Type"), "application/json");
    json body = json::parse(request.body, nullptr, false);
    EXPECT_EQ(body["apiVersion"], "authentication.k8s.io/v1");
    EXPECT_EQ(body["kind"], "TokenReview");
    const std::string token = body["spec"]["token"].get<std::string>();
    json status = {{"authenticated", false}};
    if (auto it = users_.find(token); it != users_.end()) {
      status = {{"authenticated", true},
                {"user",
                 {{"username", it->second.first}, {"uid", "0f0e"}, {"groups", it->second.second}}},
                {"audiences", {"https://kubernetes.default.svc"}}};
    } else {
      status["error"] = absl::StrCat("[invalid bearer token ", token, ", token lookup failed]");
    }
    json reply = {{"kind", "TokenReview"},
                  {"apiVersion", "authentication.k8s.io/v1"},
                  {"metadata", {{"creationTimestamp", nullptr}}},
                  {"spec", body["spec"]},
                  {"status", status}};
    return TestHttpResponse{201, reply.dump()};
  }

  std::unique_ptr<KubernetesAuthenticator> Make() {
    auto made = KubernetesAuthenticator::Create(options_, clock_);
    EXPECT_OK(made);
    return made.ok() ? *std::move(made) : nullptr;
  }
  int reviews() const { return server_->RequestCount(kReviewPath); }
  int lists() const { return server_->RequestCount(kBindingsPath); }

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<TestHttpServer> server_;
  KubernetesOptions options_;
  base::FakeClock clock_;

  absl::Mutex mu_;
  std::string gateway_token_ ABSL_GUARDED_BY(mu_) = "gateway-token-1";
  absl::flat_hash_map<std::string, std::pair<std::string, std::vector<std::string>>> users_
      ABSL_GUARDED_BY(mu_);
};

TEST_F(KubernetesAuthenticatorTest, ServiceAccountGetsRolesFromItsBindings) {
  auto authenticator = Make();
  ASSERT_OK_AND_ASSIGN(Identity who, authenticator->Authenticate(kTrainerToken));
  EXPECT_EQ(who.user, "system:serviceaccount:ml:trainer");
  EXPECT_THAT(who.roles, ElementsAre("feature-reader", "feature-writer"));
  EXPECT_THAT(who.groups, ElementsAre("system:serviceaccounts", "system:serviceaccounts:ml",
                                      "system:authenticated"));
}

TEST_F(KubernetesAuthenticatorTest, OtherAccountsBindingsAndSubjectNamespaceDefault) {
  auto authenticator = Make();
  ASSERT_OK_AND_ASSIGN(Identity other, authenticator->Authenticate(kOtherToken));
  EXPECT_THAT(other.roles, ElementsAre("admin", "feature-writer"));
  // A subject without a namespace is in the binding's namespace.
  ASSERT_OK_AND_ASSIGN(Identity local, authenticator->Authenticate("local-token"));
  EXPECT_THAT(local.roles, ElementsAre("local-role"));
}

TEST_F(KubernetesAuthenticatorTest, UsersThatAreNotServiceAccountsGetGroupsOnly) {
  auto authenticator = Make();
  ASSERT_OK_AND_ASSIGN(Identity alice, authenticator->Authenticate("alice-token"));
  EXPECT_EQ(alice.user, "alice");
  EXPECT_THAT(alice.roles, IsEmpty());
  EXPECT_THAT(alice.groups, ElementsAre("devs"));
  EXPECT_EQ(lists(), 0);
}

TEST_F(KubernetesAuthenticatorTest, RefusedTokensAreUnauthenticatedWithoutQuotingThem) {
  auto authenticator = Make();
  EXPECT_THAT(
      authenticator->Authenticate("forged-token-123"),
      StatusIs(absl::StatusCode::kUnauthenticated,
               AllOf(HasSubstr("token lookup failed"), Not(HasSubstr("forged-token-123")))));
  EXPECT_EQ(reviews(), 1);
  // Refused again from the cache.
  EXPECT_THAT(authenticator->Authenticate("forged-token-123"),
              StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_EQ(reviews(), 1);
  // Nothing to ask the API server about.
  EXPECT_THAT(authenticator->Authenticate(""),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("no bearer token")));
  EXPECT_THAT(authenticator->Authenticate("two words"),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("malformed")));
  EXPECT_THAT(authenticator->Authenticate(std::string(20000, 'a')),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("malformed")));
  EXPECT_EQ(reviews(), 1);
}

TEST_F(KubernetesAuthenticatorTest, RequestsCarryTheGatewayTokenAndTheTokenReviewShape) {
  std::vector<TestHttpRequest> seen;
  absl::Mutex seen_mu;
  server_->Handle("POST", kReviewPath, [&](const TestHttpRequest& request) {
    {
      absl::MutexLock lock(&seen_mu);
      seen.push_back(request);
    }
    return Review(request);
  });
  auto authenticator = Make();
  ASSERT_OK(authenticator->Authenticate(kTrainerToken));
  server_->Stop();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].Header("Authorization"), "Bearer gateway-token-1");
  EXPECT_EQ(json::parse(seen[0].body),
            json::parse(R"({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
                            "spec": {"token": "trainer-token"}})"));
}

TEST_F(KubernetesAuthenticatorTest, ConfiguredAudiencesGoIntoTheReview) {
  std::vector<TestHttpRequest> seen;
  absl::Mutex seen_mu;
  server_->Handle("POST", kReviewPath, [&](const TestHttpRequest& request) {
    {
      absl::MutexLock lock(&seen_mu);
      seen.push_back(request);
    }
    return Review(request);
  });
  options_.audiences = {"granary-gateway"};
  auto authenticator = Make();
  ASSERT_OK(authenticator->Authenticate(kTrainerToken));
  server_->Stop();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(json::parse(seen[0].body)["spec"]["audiences"], json::array({"granary-gateway"}));
}

TEST_F(KubernetesAuthenticatorTest, ReviewsAndBindingsAreCachedForTheTtl) {
  auto authenticator = Make();
  for (int i = 0; i < 5; ++i) ASSERT_OK(authenticator->Authenticate(kTrainerToken));
  ASSERT_OK(authenticator->Authenticate(kOtherToken));
  EXPECT_EQ(reviews(), 2);
  EXPECT_EQ(lists(), 1);  // One list serves every caller.

  clock_.Advance(absl::Seconds(59));
  ASSERT_OK(authenticator->Authenticate(kTrainerToken));
  EXPECT_EQ(reviews(), 2);
  EXPECT_EQ(lists(), 1);

  ServeBindings(200, BindingList({Binding("new", "Role", "trainer-v2", Sa("trainer"))}));
  clock_.Advance(absl::Seconds(1));
  ASSERT_OK_AND_ASSIGN(Identity who, authenticator->Authenticate(kTrainerToken));
  EXPECT_THAT(who.roles, ElementsAre("trainer-v2"));
  EXPECT_EQ(reviews(), 3);
  EXPECT_EQ(lists(), 2);
}

TEST_F(KubernetesAuthenticatorTest, MayWaitUntilReviewAndBindingsAreHeld) {
  auto authenticator = Make();
  EXPECT_TRUE(authenticator->MayWait(kTrainerToken));  // nothing fetched yet
  ASSERT_OK(authenticator->Authenticate(kTrainerToken));
  EXPECT_FALSE(authenticator->MayWait(kTrainerToken));
  EXPECT_TRUE(authenticator->MayWait(kOtherToken));  // its review is not held
  clock_.Advance(absl::Seconds(60));                 // the review and the list are stale
  EXPECT_TRUE(authenticator->MayWait(kTrainerToken));
  ASSERT_OK(authenticator->Authenticate(kTrainerToken));
  EXPECT_FALSE(authenticator->MayWait(kTrainerToken));
}

TEST_F(KubernetesAuthenticatorTest, CachedReviewEndsWhenTheTokenExpires) {
  // A JWT-shaped token whose exp is 10 s away: its review is not reused past that.
  const std::string jwt =
      absl::StrCat(absl::WebSafeBase64Escape(R"({"alg":"RS256"})"), ".",
                   absl::WebSafeBase64Escape(
                       absl::StrCat(R"({"exp":)", absl::ToUnixSeconds(clock_.Now()) + 10, "}")),
                   ".c2ln");
  Accept(jwt, "system:serviceaccount:ml:trainer", {});
  auto authenticator = Make();
  ASSERT_OK(authenticator->Authenticate(jwt));
  clock_.Advance(absl::Seconds(9));
  ASSERT_OK(authenticator->Authenticate(jwt));
  EXPECT_EQ(reviews(), 1);
  clock_.Advance(absl::Seconds(2));
  ASSERT_OK(authenticator->Authenticate(jwt));
  EXPECT_EQ(reviews(), 2);
}

TEST_F(KubernetesAuthenticatorTest, ApiServerDownIsUnavailable) {
  auto authenticator = Make();
  server_->Stop();
  EXPECT_THAT(authenticator->Authenticate(kTrainerToken),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("Kubernetes API server")));
}

TEST_F(KubernetesAuthenticatorTest, ApiServerErrorsAreUnavailable) {
  server_->Handle("POST", kReviewPath, [](const TestHttpRequest&) {
    return TestHttpResponse{500, "{}"};
  });
  auto authenticator = Make();
  EXPECT_THAT(authenticator->Authenticate(kTrainerToken),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("HTTP 500")));
  server_->Handle("POST", kReviewPath, [](const TestHttpRequest&) {
    return TestHttpResponse{403, "{}"};
  });
  EXPECT_THAT(authenticator->Authenticate(kTrainerToken),
              StatusIs(absl::StatusCode::kUnavailable,
                       AllOf(HasSubstr("gateway's own credentials"), HasSubstr("tokenreviews"))));
}

TEST_F(KubernetesAuthenticatorTest, RotatedGatewayTokenIsReadAgainOn401) {
  {
    absl::MutexLock lock(&mu_);
    gateway_token_ = "gateway-token-2";  // The API server moved on; the file has not yet.
  }
  auto authenticator = Make();
  EXPECT_THAT(authenticator->Authenticate(kTrainerToken),
              StatusIs(absl::StatusCode::kUnavailable,
                       AllOf(HasSubstr("gateway's own credentials"), HasSubstr("HTTP 401"))));
  EXPECT_EQ(reviews(), 1);  // The file held the same token: no second try.

  WriteFile("token", "gateway-token-2\n");  // The kubelet rotated it.
  ASSERT_OK_AND_ASSIGN(Identity who, authenticator->Authenticate(kTrainerToken));
  EXPECT_THAT(who.roles, ElementsAre("feature-reader", "feature-writer"));
  EXPECT_EQ(reviews(), 3);  // 401 with the old token, then accepted with the new one.
}

TEST_F(KubernetesAuthenticatorTest, FailedBindingRefreshKeepsTheListHeld) {
  auto authenticator = Make();
  ASSERT_OK(authenticator->Authenticate(kTrainerToken));
  ServeBindings(503, "{}");
  clock_.Advance(absl::Seconds(60));
  ASSERT_OK_AND_ASSIGN(Identity who, authenticator->Authenticate(kTrainerToken));
  EXPECT_THAT(who.roles, ElementsAre("feature-reader", "feature-writer"));
  EXPECT_EQ(lists(), 2);
  // Retried after a short interval, not on every call.
  ASSERT_OK(authenticator->Authenticate(kOtherToken));
  EXPECT_EQ(lists(), 2);
  clock_.Advance(absl::Seconds(5));
  ASSERT_OK(authenticator->Authenticate(kOtherToken));
  EXPECT_EQ(lists(), 3);
}

TEST_F(KubernetesAuthenticatorTest, NoBindingListYetIsUnavailableForServiceAccounts) {
  ServeBindings(403, "{}");
  auto authenticator = Make();
  EXPECT_THAT(authenticator->Authenticate(kTrainerToken),
              StatusIs(absl::StatusCode::kUnavailable,
                       AllOf(HasSubstr("gateway's own credentials"), HasSubstr("rolebindings"))));
  // Users that are not service accounts need no list.
  EXPECT_OK(authenticator->Authenticate("alice-token"));
}

TEST_F(KubernetesAuthenticatorTest, CreateChecksItsOptions) {
  // The namespace comes from the file beside the token unless set.
  auto made = KubernetesAuthenticator::Create(options_, clock_);
  ASSERT_OK(made);
  ASSERT_OK((*made)->Authenticate(kTrainerToken));
  EXPECT_EQ(lists(), 1);

  KubernetesOptions missing = options_;
  missing.token_file = dir_->path() + "/absent";
  EXPECT_THAT(KubernetesAuthenticator::Create(missing, clock_),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("absent")));
  KubernetesOptions bad_ns = options_;
  bad_ns.namespace_name = "../secrets";
  EXPECT_THAT(KubernetesAuthenticator::Create(bad_ns, clock_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("namespace")));
  KubernetesOptions no_ca = options_;
  no_ca.api_server = "https://kubernetes.default.svc";
  no_ca.ca_file = dir_->path() + "/ca.crt";
  EXPECT_THAT(KubernetesAuthenticator::Create(no_ca, clock_),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("ca_file")));
}

}  // namespace
}  // namespace granary::auth
