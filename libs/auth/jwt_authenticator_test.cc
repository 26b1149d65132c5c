#include "libs/auth/jwt_authenticator.h"

#include <atomic>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

#include "libs/auth/jwks_file.h"
#include "libs/auth/test_keys.h"
#include "libs/base/clock.h"
#include "libs/config/secret.h"
#include "libs/testing/status_matchers.h"
#include "libs/testing/temp_dir.h"

namespace granary::auth {
namespace {

using ::granary::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using json = nlohmann::json;

constexpr char kSecret[] = "0123456789abcdef0123456789abcdef-dev";
constexpr char kIssuer[] = "https://idp.example.com/realms/ml";

auto Refused(const std::string& reason) {
  return StatusIs(absl::StatusCode::kUnauthenticated, reason);
}

class JwtAuthenticatorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsa_ = new test::TestKey(*test::GenerateRsaKey("rsa-1"));
    rotated_ = new test::TestKey(*test::GenerateRsaKey("rsa-2"));
    ec_ = new test::TestKey(*test::GenerateEcKey("ec-1"));
  }
  static void TearDownTestSuite() {
    delete rsa_;
    delete rotated_;
    delete ec_;
  }

  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(dir_, granary::testing::TempDir::Create("jwt"));
    path_ = dir_->path() + "/jwks.json";
    WriteJwks({*rsa_, *ec_});
    ASSERT_OK_AND_ASSIGN(source_, JwksFileSource::Open(path_, clock_));
  }

  void WriteJwks(const std::vector<test::TestKey>& keys) {
    std::ofstream(path_, std::ios::trunc) << test::JwksJson(keys);
  }

  JwtOptions Options(std::vector<std::string> algorithms) {
    JwtOptions options;
    options.algorithms = std::move(algorithms);
    options.hs256_secret = config::Secret::FromValue(kSecret);
    options.keys = source_;
    options.issuer = kIssuer;
    options.audiences = {"granary"};
    options.claims.client_id = "granary-gateway";
    return options;
  }

  std::unique_ptr<JwtAuthenticator> Make(std::vector<std::string> algorithms) {
    auto made = JwtAuthenticator::Create(Options(std::move(algorithms)), clock_);
    EXPECT_OK(made);
    return made.ok() ? *std::move(made) : nullptr;
  }

  // Valid claims for now; `changes` replaces members, a null member removes one.
  std::string Claims(const json& changes = json::object()) {
    const int64_t now = absl::ToUnixSeconds(clock_.Now());
    json claims = {{"sub", "u-123"}, {"preferred_username", "alice"},
                   {"iss", kIssuer}, {"aud", "granary"},
                   {"iat", now},     {"exp", now + 600}};
    for (const auto& [name, value] : changes.items()) {
      if (value.is_null()) {
        claims.erase(name);
      } else {
        claims[name] = value;
      }
    }
    return claims.dump();
  }

  std::string Sign(const std::string& alg, const std::string& claims) {
    absl::StatusOr<std::string> token =
        alg == "HS256"   ? test::SignToken("HS256", kSecret, claims)
        : alg == "RS256" ? test::SignToken("RS256", rsa_->private_pem, claims, rsa_->kid)
                         : test::SignToken("ES256", ec_->private_pem, claims, ec_->kid);
    EXPECT_OK(token);
    return token.ok() ? *token : "";
  }

  static test::TestKey* rsa_;
  static test::TestKey* rotated_;
  static test::TestKey* ec_;
  base::FakeClock clock_;
  std::optional<granary::testing::TempDir> dir_;
  std::string path_;
  std::shared_ptr<JwksFileSource> source_;
};

test::TestKey* JwtAuthenticatorTest::rsa_ = nullptr;
test::TestKey* JwtAuthenticatorTest::rotated_ = nullptr;
test::TestKey* JwtAuthenticatorTest::ec_ = nullptr;

// --- happy paths ---

// A key source that would fetch for every kid but "held": MayWait asks it only about tokens
// that are verified with its keys.
class FetchingSource : public KeySource {
 public:
  explicit FetchingSource(std::shared_ptr<KeySource> inner) : inner_(std::move(inner)) {}
  absl::StatusOr<std::shared_ptr<const KeySet>> Keys() override { return inner_->Keys(); }
  absl::StatusOr<std::shared_ptr<const KeySet>> KeysAfterUnknownKid() override {
    return inner_->KeysAfterUnknownKid();
  }
  bool MayWait(absl::string_view kid, absl::string_view) const override { return kid != "held"; }

 private:
  std::shared_ptr<KeySource> inner_;
};

TEST_F(JwtAuthenticatorTest, OnlyTokensVerifiedWithKeysToFetchMayWait) {
  JwtOptions options = Options({"HS256", "RS256"});
  options.keys = std::make_shared<FetchingSource>(source_);
  ASSERT_OK_AND_ASSIGN(auto authenticator, JwtAuthenticator::Create(options, clock_));
  EXPECT_TRUE(authenticator->MayWait(Sign("RS256", Claims())));   // its kid is not "held"
  EXPECT_FALSE(authenticator->MayWait(Sign("HS256", Claims())));  // the secret is local
  EXPECT_FALSE(authenticator->MayWait("not-a-token"));            // refused at once
  EXPECT_FALSE(authenticator->MayWait(""));
  // With a local JWKS file nothing ever waits.
  EXPECT_FALSE(Make({"RS256"})->MayWait(Sign("RS256", Claims())));
}

TEST_F(JwtAuthenticatorTest, Hs256MapsUserRolesAndGroups) {
  auto auth = Make({"HS256"});
  std::string token =
      Sign("HS256", Claims({{"roles", {"reader", "writer", "reader"}}, {"groups", {"ml"}}}));
  ASSERT_OK_AND_ASSIGN(Identity who, auth->Authenticate(token));
  EXPECT_EQ(who.user, "alice");
  EXPECT_THAT(who.roles, ElementsAre("reader", "writer"));
  EXPECT_THAT(who.groups, ElementsAre("ml"));
}

TEST_F(JwtAuthenticatorTest, Rs256AddsClientRolesAndFallsBackToSub) {
  auto auth = Make({"RS256"});
  json access = {{"granary-gateway", {{"roles", {"admin", "reader"}}}},
                 {"other-client", {{"roles", {"root"}}}}};
  std::string token = Sign("RS256", Claims({{"preferred_username", nullptr},
                                            {"roles", {"reader"}},
                                            {"resource_access", access}}));
  ASSERT_OK_AND_ASSIGN(Identity who, auth->Authenticate(token));
  EXPECT_EQ(who.user, "u-123");
  EXPECT_THAT(who.roles, ElementsAre("reader", "admin"));
  EXPECT_THAT(who.groups, IsEmpty());
}

TEST_F(JwtAuthenticatorTest, Es256Verifies) {
  auto auth = Make({"RS256", "ES256"});
  ASSERT_OK_AND_ASSIGN(Identity who, auth->Authenticate(Sign("ES256", Claims())));
  EXPECT_EQ(who.user, "alice");
}

TEST_F(JwtAuthenticatorTest, Es256InJoseRawFormFromAnotherSignerVerifies) {
  auto auth = Make({"ES256"});
  ASSERT_OK_AND_ASSIGN(std::string token,
                       test::AssembleEs256Token(R"({"alg":"ES256","typ":"JWT","kid":"ec-1"})",
                                                Claims(), ec_->private_pem));
  EXPECT_OK(auth->Authenticate(token));
}

TEST_F(JwtAuthenticatorTest, DottedClaimNamesFollowPaths) {
  JwtOptions options = Options({"HS256"});
  options.claims.roles_claim = "realm_access.roles";
  options.claims.groups_claim = "https://example.com/groups";  // a claim whose name has dots
  ASSERT_OK_AND_ASSIGN(auto auth, JwtAuthenticator::Create(std::move(options), clock_));
  std::string token = Sign("HS256", Claims({{"realm_access", {{"roles", {"ops"}}}},
                                            {"https://example.com/groups", "team-a"}}));
  ASSERT_OK_AND_ASSIGN(Identity who, auth->Authenticate(token));
  EXPECT_THAT(who.roles, ElementsAre("ops"));
  EXPECT_THAT(who.groups, ElementsAre("team-a"));
}

TEST_F(JwtAuthenticatorTest, MintedTokenAuthenticates) {
  auto auth = Make({"HS256"});
  Identity alice{"alice", {"reader"}, {"ml"}};
  ASSERT_OK_AND_ASSIGN(std::string token, MintHs256Token(kSecret, alice, clock_.Now(),
                                                         absl::Hours(1), kIssuer, "granary"));
  ASSERT_OK_AND_ASSIGN(Identity who, auth->Authenticate(token));
  EXPECT_EQ(who.user, "alice");
  EXPECT_THAT(who.roles, ElementsAre("reader"));
  EXPECT_THAT(who.groups, ElementsAre("ml"));
  clock_.Advance(absl::Hours(1) + absl::Seconds(30));
  EXPECT_THAT(auth->Authenticate(token), Refused("token expired"));

  EXPECT_THAT(MintHs256Token("short", alice, clock_.Now(), absl::Hours(1), "", ""),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(MintHs256Token(kSecret, Identity{}, clock_.Now(), absl::Hours(1), "", ""),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(MintHs256Token(kSecret, alice, clock_.Now(), absl::ZeroDuration(), "", ""),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// --- refused tokens ---

TEST_F(JwtAuthenticatorTest, NoTokenAndMalformedTokens) {
  auto auth = Make({"HS256", "RS256"});
  EXPECT_THAT(auth->Authenticate(""), Refused("no bearer token"));
  std::string good = Sign("HS256", Claims());
  std::string body = good.substr(good.find('.'));  // ".<payload>.<signature>"
  const std::string malformed[] = {
      "abc",
      "a.b",
      "a.b.c.d",
      good + ".",
      "!!!" + body,                                          // header not base64url
      test::Base64Url("not json") + body,                    // header not JSON
      test::Base64Url("[1]") + body,                         // header not an object
      test::Base64Url(R"({"typ":"JWT"})") + body,            // no alg
      test::Base64Url(R"({"alg":"HS256","kid":7})") + body,  // kid not a string
      test::AssembleHs256Token(R"({"alg":"HS256"})", "not json", kSecret),
      test::AssembleHs256Token(R"({"alg":"HS256"})", "[1,2]", kSecret),
      std::string(20000, 'a') + "." + good,
  };
  for (const std::string& token : malformed) {
    EXPECT_THAT(auth->Authenticate(token), Refused("malformed token")) << token.substr(0, 80);
  }
}

TEST_F(JwtAuthenticatorTest, UnsignedAlgNoneIsRefusedInEveryCase) {
  auto auth = Make({"HS256", "RS256", "ES256"});
  for (const std::string alg : {"none", "None", "NONE", "nOnE"}) {
    std::string header = absl::StrCat(R"({"alg":")", alg, R"(","typ":"JWT"})");
    std::string unsigned_token = test::AssembleToken(header, Claims(), "");
    ASSERT_EQ(unsigned_token.back(), '.');
    EXPECT_THAT(auth->Authenticate(unsigned_token),
                Refused(absl::StrCat("token algorithm ", alg, " is not accepted")));
    // Nor with some signature attached.
    EXPECT_THAT(auth->Authenticate(test::AssembleHs256Token(header, Claims(), kSecret)),
                Refused(absl::StrCat("token algorithm ", alg, " is not accepted")));
  }
  // Case variants of accepted algorithms are other algorithms.
  EXPECT_THAT(auth->Authenticate(test::AssembleHs256Token(R"({"alg":"hs256"})", Claims(), kSecret)),
              Refused("token algorithm hs256 is not accepted"));
}

TEST_F(JwtAuthenticatorTest, HmacSignedWithThePublicKeyIsRefused) {
  // The classic key confusion: the attacker has the public PEM and uses it as an HMAC secret.
  ASSERT_OK_AND_ASSIGN(std::string forged,
                       test::SignToken("HS256", rsa_->public_pem, Claims(), rsa_->kid));
  EXPECT_THAT(Make({"RS256"})->Authenticate(forged),
              Refused("token algorithm HS256 is not accepted"));
  // With HS256 accepted as well, only the configured secret verifies HS256.
  EXPECT_THAT(Make({"RS256", "HS256"})->Authenticate(forged), Refused("bad signature"));
  // Nor can a duplicated alg member steer one parser to HS256 and the other to RS256.
  for (const char* header : {R"({"alg":"RS256","alg":"HS256","kid":"rsa-1"})",
                             R"({"alg":"HS256","alg":"RS256","kid":"rsa-1"})"}) {
    std::string token = test::AssembleHs256Token(header, Claims(), rsa_->public_pem);
    EXPECT_THAT(Make({"RS256", "HS256"})->Authenticate(token),
                StatusIs(absl::StatusCode::kUnauthenticated))
        << header;
  }
}

TEST_F(JwtAuthenticatorTest, KeysAreNeverUsedAcrossAlgorithms) {
  auto auth = Make({"RS256", "ES256"});
  // An ES256 token naming the RSA key's kid, and an RS256 token naming the EC key's kid.
  ASSERT_OK_AND_ASSIGN(std::string es,
                       test::SignToken("ES256", ec_->private_pem, Claims(), rsa_->kid));
  ASSERT_OK_AND_ASSIGN(std::string rs,
                       test::SignToken("RS256", rsa_->private_pem, Claims(), ec_->kid));
  EXPECT_THAT(auth->Authenticate(es), Refused("unknown key id"));
  EXPECT_THAT(auth->Authenticate(rs), Refused("unknown key id"));
}

TEST_F(JwtAuthenticatorTest, TokenWithoutKidNeedsTheOnlyKeyOfItsAlgorithm) {
  auto auth = Make({"RS256", "ES256"});
  ASSERT_OK_AND_ASSIGN(std::string rs, test::SignToken("RS256", rsa_->private_pem, Claims()));
  ASSERT_OK_AND_ASSIGN(std::string es, test::SignToken("ES256", ec_->private_pem, Claims()));
  EXPECT_OK(auth->Authenticate(rs));
  EXPECT_OK(auth->Authenticate(es));
  // With two RSA keys published, a token must say which one.
  WriteJwks({*rsa_, *rotated_, *ec_});
  clock_.Advance(absl::Minutes(5));
  EXPECT_THAT(auth->Authenticate(rs), Refused("token names no key id"));
  EXPECT_OK(auth->Authenticate(es));
}

// A key source whose issuer cannot be reached.
class UnreachableKeys : public KeySource {
 public:
  absl::StatusOr<std::shared_ptr<const KeySet>> Keys() override {
    return absl::UnavailableError("issuer unreachable");
  }
  absl::StatusOr<std::shared_ptr<const KeySet>> KeysAfterUnknownKid() override { return Keys(); }
};

TEST_F(JwtAuthenticatorTest, UnreachableKeySourceIsUnavailableNotUnauthenticated) {
  JwtOptions options = Options({"RS256", "HS256"});
  options.keys = std::make_shared<UnreachableKeys>();
  ASSERT_OK_AND_ASSIGN(auto auth, JwtAuthenticator::Create(std::move(options), clock_));
  EXPECT_THAT(auth->Authenticate(Sign("RS256", Claims())),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_OK(auth->Authenticate(Sign("HS256", Claims())));  // HS256 never asks the key source
}

TEST_F(JwtAuthenticatorTest, TimeClaims) {
  auto auth = Make({"HS256"});
  const int64_t now = absl::ToUnixSeconds(clock_.Now());
  EXPECT_THAT(auth->Authenticate(Sign("HS256", Claims({{"exp", now - 31}}))),
              Refused("token expired"));
  EXPECT_OK(auth->Authenticate(Sign("HS256", Claims({{"exp", now - 29}}))));  // within leeway
  EXPECT_THAT(auth->Authenticate(Sign("HS256", Claims({{"exp", nullptr}}))),
              Refused("token has no expiry"));
  EXPECT_THAT(auth->Authenticate(Sign("HS256", Claims({{"exp", "tomorrow"}}))),
              Refused("malformed token"));
  EXPECT_THAT(auth->Authenticate(Sign("HS256", Claims({{"nbf", now + 31}}))),
              Refused("token not yet valid"));
  EXPECT_OK(auth->Authenticate(Sign("HS256", Claims({{"nbf", now + 29}}))));
  EXPECT_OK(auth->Authenticate(Sign("HS256", Claims({{"exp", now + 10.5}}))));
  EXPECT_OK(auth->Authenticate(Sign("HS256", Claims({{"exp", 1e300}}))));
}

TEST_F(JwtAuthenticatorTest, IssuerAndAudience) {
  auto auth = Make({"RS256"});
  EXPECT_THAT(auth->Authenticate(Sign("RS256", Claims({{"iss", "https://evil.example"}}))),
              Refused("wrong issuer"));
  EXPECT_THAT(auth->Authenticate(Sign("RS256", Claims({{"iss", nullptr}}))),
              Refused("wrong issuer"));
  EXPECT_THAT(auth->Authenticate(Sign("RS256", Claims({{"aud", "someone-else"}}))),
              Refused("wrong audience"));
  EXPECT_THAT(auth->Authenticate(Sign("RS256", Claims({{"aud", nullptr}}))),
              Refused("wrong audience"));
  EXPECT_THAT(auth->Authenticate(Sign("RS256", Claims({{"aud", json::array({"a", "b"})}}))),
              Refused("wrong audience"));
  EXPECT_OK(auth->Authenticate(Sign("RS256", Claims({{"aud", {"account", "granary"}}}))));

  // Neither is checked when not configured.
  JwtOptions options = Options({"RS256"});
  options.issuer.clear();
  options.audiences.clear();
  ASSERT_OK_AND_ASSIGN(auto lax, JwtAuthenticator::Create(std::move(options), clock_));
  EXPECT_OK(lax->Authenticate(Sign("RS256", Claims({{"iss", nullptr}, {"aud", nullptr}}))));
}

TEST_F(JwtAuthenticatorTest, TamperedTokensHaveBadSignatures) {
  auto auth = Make({"HS256", "RS256", "ES256"});
  for (const std::string alg : {"HS256", "RS256", "ES256"}) {
    std::string token = Sign(alg, Claims());
    std::string flipped = token;
    char& c = flipped[flipped.rfind('.') + 5];
    c = c == 'A' ? 'B' : 'A';
    EXPECT_THAT(auth->Authenticate(flipped), Refused("bad signature")) << alg;
    // A payload swapped for one granting more, the signature kept.
    std::string payload = test::Base64Url(Claims({{"roles", {"admin"}}}));
    size_t first = token.find('.'), last = token.rfind('.');
    std::string swapped = token.substr(0, first + 1) + payload + token.substr(last);
    EXPECT_THAT(auth->Authenticate(swapped), Refused("bad signature")) << alg;
    // The signature cut off.
    EXPECT_THAT(auth->Authenticate(token.substr(0, last + 1)), Refused("bad signature")) << alg;
  }
  // The right algorithm with the wrong secret.
  ASSERT_OK_AND_ASSIGN(std::string other, test::SignToken("HS256", std::string(40, 'x'), Claims()));
  EXPECT_THAT(auth->Authenticate(other), Refused("bad signature"));
}

TEST_F(JwtAuthenticatorTest, CriticalHeaderExtensionsAreRefused) {
  auto auth = Make({"HS256"});
  std::string token =
      test::AssembleHs256Token(R"({"alg":"HS256","crit":["exp"],"exp":1})", Claims(), kSecret);
  EXPECT_THAT(auth->Authenticate(token), Refused("token has critical header extensions"));
}

TEST_F(JwtAuthenticatorTest, TokenWithoutUserIsRefused) {
  auto auth = Make({"HS256"});
  EXPECT_THAT(auth->Authenticate(
                  Sign("HS256", Claims({{"preferred_username", nullptr}, {"sub", nullptr}}))),
              Refused("token names no user"));
  EXPECT_THAT(
      auth->Authenticate(Sign("HS256", Claims({{"preferred_username", ""}, {"sub", nullptr}}))),
      Refused("token names no user"));
}

TEST_F(JwtAuthenticatorTest, ErrorsNeverQuoteTheToken) {
  auto auth = Make({"RS256"});
  std::string token = Sign("RS256", Claims({{"iss", "https://evil.example"}}));
  absl::StatusOr<Identity> result = auth->Authenticate(token);
  ASSERT_THAT(result, Refused("wrong issuer"));
  for (absl::string_view part : absl::StrSplit(token, '.')) {
    EXPECT_THAT(std::string(result.status().message()), Not(HasSubstr(std::string(part))));
  }
}

// --- key rotation ---

TEST_F(JwtAuthenticatorTest, RotatedKeyWrittenToTheFileIsPickedUp) {
  auto auth = Make({"RS256"});
  ASSERT_OK_AND_ASSIGN(std::string token,
                       test::SignToken("RS256", rotated_->private_pem, Claims(), rotated_->kid));
  clock_.Advance(absl::Seconds(30));
  EXPECT_THAT(auth->Authenticate(token), Refused("unknown key id"));  // re-read, not there yet
  EXPECT_EQ(source_->reads(), 2);

  WriteJwks({*rsa_, *rotated_, *ec_});
  EXPECT_THAT(auth->Authenticate(token), Refused("unknown key id"));  // rate-limited
  clock_.Advance(absl::Seconds(30));
  ASSERT_OK_AND_ASSIGN(Identity who, auth->Authenticate(token));
  EXPECT_EQ(who.user, "alice");
  EXPECT_EQ(source_->reads(), 3);
  // The old key still works, and known kids cause no reads.
  EXPECT_OK(auth->Authenticate(Sign("RS256", Claims())));
  EXPECT_EQ(source_->reads(), 3);
}

TEST_F(JwtAuthenticatorTest, StormOfUnknownKidsIsRateLimited) {
  auto auth = Make({"RS256"});
  clock_.Advance(absl::Minutes(1));
  for (int i = 0; i < 200; ++i) {
    ASSERT_OK_AND_ASSIGN(std::string token, test::SignToken("RS256", rsa_->private_pem, Claims(),
                                                            absl::StrCat("ghost-", i)));
    EXPECT_THAT(auth->Authenticate(token), Refused("unknown key id"));
  }
  EXPECT_EQ(source_->reads(), 2);
}

TEST_F(JwtAuthenticatorTest, ConcurrentCallsAgree) {
  auto auth = Make({"HS256", "RS256", "ES256"});
  const std::string tokens[] = {Sign("HS256", Claims()), Sign("RS256", Claims()),
                                Sign("ES256", Claims())};
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        absl::StatusOr<Identity> who = auth->Authenticate(tokens[(t + i) % 3]);
        if (!who.ok() || who->user != "alice") ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
}

// --- options ---

TEST_F(JwtAuthenticatorTest, CreateRefusesOptionsThatCannotWork) {
  auto create = [&](JwtOptions options) {
    return JwtAuthenticator::Create(std::move(options), clock_).status();
  };
  const auto invalid = [](const std::string& what) {
    return StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(what));
  };
  EXPECT_THAT(create(Options({})), invalid("algorithms"));
  EXPECT_THAT(create(Options({"HS512"})), invalid("unknown algorithm"));
  EXPECT_THAT(create(Options({"RS256", "none"})), invalid("never accepted"));
  EXPECT_THAT(create(Options({"NONE"})), invalid("never accepted"));

  JwtOptions no_secret = Options({"HS256"});
  no_secret.hs256_secret = config::Secret();
  EXPECT_THAT(create(std::move(no_secret)), invalid("hs256_secret: required"));
  JwtOptions short_secret = Options({"HS256"});
  short_secret.hs256_secret = config::Secret::FromValue("too-short");
  EXPECT_THAT(create(std::move(short_secret)), invalid("at least 32 bytes"));

  for (const char* alg : {"RS256", "ES256"}) {
    JwtOptions no_keys = Options({alg});
    no_keys.keys = nullptr;
    EXPECT_THAT(create(std::move(no_keys)), invalid("keys"));
  }
  JwtOptions negative = Options({"HS256"});
  negative.leeway = absl::Seconds(-1);
  EXPECT_THAT(create(std::move(negative)), invalid("leeway"));
  JwtOptions no_users = Options({"HS256"});
  no_users.claims.user_claims.clear();
  EXPECT_THAT(create(std::move(no_users)), invalid("user_claims"));
}

}  // namespace
}  // namespace granary::auth
