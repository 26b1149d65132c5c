#include "libs/server/caller_check.h"

#include "gmock/gmock.h"
#include "grpcpp/server_context.h"
#include "grpcpp/test/server_context_test_spouse.h"
#include "gtest/gtest.h"

#include "libs/testing/status_matchers.h"

namespace granary::server {
namespace {

using ::granary::testing::IsOkAndHolds;
using ::granary::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kService[] = "granary.registry.v1.RegistryService";
constexpr char kApply[] = "/granary.registry.v1.RegistryService/Apply";

config::Secret Key(absl::string_view value = "0123456789abcdef0123456789abcdef") {
  return config::Secret::FromValue(std::string(value), "test");
}

GatewaySignatureConfig Required() {
  GatewaySignatureConfig config;
  config.required = true;
  config.secret = Key();
  return config;
}

std::string Signed(absl::string_view user, absl::string_view method, absl::Time now,
                   absl::string_view key = "0123456789abcdef0123456789abcdef") {
  auth::Identity who;
  who.user = std::string(user);
  return auth::CallerSigner(Key(key), absl::Seconds(30)).Sign(who, method, now);
}

// A server context carrying the given metadata, as a handler sees it.
class Call {
 public:
  Call& With(const std::string& key, const std::string& value) {
    spouse_.AddClientMetadata(key, value);
    return *this;
  }
  const grpc::ServerContext& ctx() const { return ctx_; }

 private:
  grpc::ServerContext ctx_;
  grpc::testing::ServerContextTestSpouse spouse_{&ctx_};
};

TEST(CallerCheckTest, WithoutConfigEveryCallPassesAndTheUnsignedNameIsKept) {
  CallerCheck check;
  Call call;
  EXPECT_TRUE(check.Check(call.ctx(), kService, "Apply").ok());
  EXPECT_THAT(check.CallerUser(call.ctx(), kService, "Apply"), IsOkAndHolds("anonymous"));
  call.With("x-granary-caller", "ci-bot");
  EXPECT_THAT(check.CallerUser(call.ctx(), kService, "Apply"), IsOkAndHolds("ci-bot"));
}

TEST(CallerCheckTest, RequiredRefusesACallWithoutASignature) {
  CallerCheck check(Required());
  Call call;
  call.With("x-granary-caller", "root");  // unsigned: worth nothing
  grpc::Status refused = check.Check(call.ctx(), kService, "Apply");
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(refused.error_message(), HasSubstr("missing"));
  EXPECT_THAT(check.CallerUser(call.ctx(), kService, "Apply"),
              StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST(CallerCheckTest, RequiredAcceptsAValidSignatureAndNamesItsUser) {
  base::FakeClock clock;
  CallerCheck check(Required(), clock);
  Call call;
  call.With(auth::kCallerSignatureHeader, Signed("alice", kApply, clock.Now()))
      .With("x-granary-caller", "mallory");
  EXPECT_TRUE(check.Check(call.ctx(), kService, "Apply").ok());
  EXPECT_THAT(check.CallerUser(call.ctx(), kService, "Apply"), IsOkAndHolds("alice"));
}

TEST(CallerCheckTest, RequiredRefusesForgedExpiredAndMisdirectedSignatures) {
  base::FakeClock clock;
  CallerCheck check(Required(), clock);
  struct Case {
    std::string header;
    std::string why;
  } cases[] = {
      {Signed("alice", kApply, clock.Now(), "a different secret, 32 bytes long"), "bad signature"},
      {Signed("alice", "/granary.registry.v1.RegistryService/Plan", clock.Now()), "another method"},
      {Signed("alice", "/feast.serving.ServingService/Apply", clock.Now()), "another method"},
      {Signed("alice", kApply, clock.Now() - absl::Minutes(5)), "expired"},
      {"v1.bm9wZQ.bm9wZQ", "bad signature"},
  };
  for (const Case& c : cases) {
    Call call;
    call.With(auth::kCallerSignatureHeader, c.header);
    grpc::Status refused = check.Check(call.ctx(), kService, "Apply");
    EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAUTHENTICATED) << c.why;
    EXPECT_THAT(refused.error_message(), HasSubstr(c.why));
  }
}

TEST(CallerCheckTest, TheLeewayComesFromTheConfig) {
  base::FakeClock clock;
  GatewaySignatureConfig config = Required();
  config.leeway = absl::Seconds(20);
  CallerCheck check(config, clock);
  Call call;
  call.With(auth::kCallerSignatureHeader, Signed("alice", kApply, clock.Now()));
  clock.Advance(absl::Seconds(30 + 20));
  EXPECT_TRUE(check.Check(call.ctx(), kService, "Apply").ok());
  clock.Advance(absl::Seconds(1));
  EXPECT_FALSE(check.Check(call.ctx(), kService, "Apply").ok());
}

TEST(CallerCheckTest, OptionalWithASecretPassesEverythingButNamesOnlyValidSigners) {
  base::FakeClock clock;
  GatewaySignatureConfig config = Required();
  config.required = false;
  CallerCheck check(config, clock);
  Call valid;
  valid.With(auth::kCallerSignatureHeader, Signed("alice", kApply, clock.Now()));
  EXPECT_THAT(check.CallerUser(valid.ctx(), kService, "Apply"), IsOkAndHolds("alice"));
  Call forged;
  forged
      .With(auth::kCallerSignatureHeader, Signed("alice", kApply, clock.Now(), "x" + Key().value()))
      .With("x-granary-caller", "ci-bot");
  EXPECT_TRUE(check.Check(forged.ctx(), kService, "Apply").ok());
  EXPECT_THAT(check.CallerUser(forged.ctx(), kService, "Apply"), IsOkAndHolds("ci-bot"));
}

TEST(CallerCheckTest, RequiredWithoutASecretRefusesEverything) {
  // ReadServerConfig does not allow it; a config built by hand fails closed.
  GatewaySignatureConfig config;
  config.required = true;
  CallerCheck check(config);
  Call call;
  call.With(auth::kCallerSignatureHeader, Signed("alice", kApply, absl::Now()));
  EXPECT_EQ(check.Check(call.ctx(), kService, "Apply").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST(CallerCheckTest, AnEmptySignedUserIsAnonymous) {
  base::FakeClock clock;
  CallerCheck check(Required(), clock);
  Call call;
  call.With(auth::kCallerSignatureHeader, Signed("", kApply, clock.Now()));
  EXPECT_THAT(check.CallerUser(call.ctx(), kService, "Apply"), IsOkAndHolds("anonymous"));
}

TEST(MethodPathTest, IsWhatGrpcRoutesOn) { EXPECT_EQ(MethodPath(kService, "Apply"), kApply); }

}  // namespace
}  // namespace granary::server
