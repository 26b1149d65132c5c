// `granary token` mints what the local gateway accepts: verified by the gateway's own
// authenticator (//libs/auth:jwt, HS256, issuer granary-dev, audience granary).
#include "tools/cli/token_command.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "libs/auth/jwt_authenticator.h"
#include "libs/config/secret.h"
#include "libs/testing/status_matchers.h"
#include "libs/testing/temp_dir.h"

namespace granary::cli {
namespace {

using ::granary::testing::StatusIs;
using ::granary::testing::TempDir;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr char kSecret[] = "6f1d0c5e9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d";

class TokenCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("GRANARY_JWT_SECRET_FILE");
    unsetenv("GRANARY_HOME");
    ASSERT_OK_AND_ASSIGN(dir_, TempDir::Create("token"));
    options_.secret_file = Write("jwt.secret", std::string(kSecret) + "\n");
    options_.now = absl::Now();
  }

  std::string Write(const std::string& name, const std::string& text) {
    std::string path = dir_.path() + "/" + name;
    std::ofstream(path) << text;
    return path;
  }

  // What the local gateway is configured with (tools/dev writes the same).
  absl::StatusOr<auth::Identity> Verify(const std::string& token) {
    auth::JwtOptions jwt;
    jwt.algorithms = {"HS256"};
    jwt.hs256_secret = config::Secret::FromValue(kSecret);
    jwt.issuer = "granary-dev";
    jwt.audiences = {"granary"};
    absl::StatusOr<std::unique_ptr<auth::JwtAuthenticator>> authenticator =
        auth::JwtAuthenticator::Create(std::move(jwt));
    if (!authenticator.ok()) return authenticator.status();
    return (*authenticator)->Authenticate(token);
  }

  int Run() { return RunToken(options_, {out_, err_, false}); }
  std::string Token() { return std::string(absl::StripTrailingAsciiWhitespace(out_.str())); }

  TempDir dir_ = std::move(TempDir::Create("unused").value());
  TokenOptions options_{.user = "ana"};
  std::ostringstream out_, err_;
};

TEST_F(TokenCommandTest, MintsATokenTheGatewayAccepts) {
  options_.roles = {"reader,writer"};
  options_.groups = {"ml"};
  ASSERT_EQ(Run(), 0) << err_.str();
  EXPECT_THAT(out_.str(), Not(HasSubstr(kSecret)));
  ASSERT_OK_AND_ASSIGN(auth::Identity who, Verify(Token()));
  EXPECT_EQ(who.user, "ana");
  EXPECT_THAT(who.roles, ElementsAre("reader", "writer"));
  EXPECT_THAT(who.groups, ElementsAre("ml"));
}

TEST_F(TokenCommandTest, ItExpiresAfterItsTtl) {
  options_.roles = {"reader"};
  options_.ttl = absl::Seconds(1);
  options_.now = absl::Now() - absl::Minutes(5);  // the authenticator allows 30 s of skew
  ASSERT_EQ(Run(), 0) << err_.str();
  EXPECT_THAT(Verify(Token()), StatusIs(absl::StatusCode::kUnauthenticated, "token expired"));
}

TEST_F(TokenCommandTest, TheSecretFileComesFromTheEnvironmentToo) {
  std::string file = options_.secret_file;
  options_.secret_file.clear();
  setenv("GRANARY_JWT_SECRET_FILE", file.c_str(), 1);
  EXPECT_EQ(Run(), 0) << err_.str();
  unsetenv("GRANARY_JWT_SECRET_FILE");
  ASSERT_OK(Verify(Token()));
}

TEST_F(TokenCommandTest, BadUsageExitsTwo) {
  options_.user = " ";
  EXPECT_EQ(Run(), 2);
  options_.user = "ana";
  options_.roles = {"reader,,writer"};
  EXPECT_EQ(Run(), 2);
  options_.roles = {"reader"};
  options_.ttl = absl::ZeroDuration();
  EXPECT_EQ(Run(), 2);
  EXPECT_THAT(out_.str(), IsEmpty());
}

TEST_F(TokenCommandTest, AMissingOrShortSecretFailsWithoutQuotingIt) {
  options_.secret_file = dir_.path() + "/nowhere.secret";
  EXPECT_EQ(Run(), 1);
  EXPECT_THAT(err_.str(), HasSubstr(options_.secret_file));
  options_.secret_file = Write("short.secret", "tooshort-secret-value\n");
  EXPECT_EQ(Run(), 1);
  EXPECT_THAT(err_.str(), AllOf(HasSubstr("short.secret"), HasSubstr("32 bytes"),
                                Not(HasSubstr("tooshort-secret-value"))));
  EXPECT_THAT(out_.str(), IsEmpty());
}

}  // namespace
}  // namespace granary::cli
