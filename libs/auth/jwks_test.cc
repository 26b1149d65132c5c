#include "libs/auth/jwks.h"

#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

#include "libs/auth/jwks_file.h"
#include "libs/auth/test_keys.h"
#include "libs/base/clock.h"
#include "libs/testing/status_matchers.h"
#include "libs/testing/temp_dir.h"

namespace granary::auth {
namespace {

using ::granary::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::IsNull;
using ::testing::NotNull;

class JwksTest : public ::testing::Test {
 protected:
  // RSA key generation is the slow part; one set of keys serves every test.
  static void SetUpTestSuite() {
    rsa_ = new test::TestKey(*test::GenerateRsaKey("rsa-1"));
    rsa2_ = new test::TestKey(*test::GenerateRsaKey("rsa-2"));
    ec_ = new test::TestKey(*test::GenerateEcKey("ec-1"));
  }
  static void TearDownTestSuite() {
    delete rsa_;
    delete rsa2_;
    delete ec_;
  }

  static test::TestKey* rsa_;
  static test::TestKey* rsa2_;
  static test::TestKey* ec_;
};

test::TestKey* JwksTest::rsa_ = nullptr;
test::TestKey* JwksTest::rsa2_ = nullptr;
test::TestKey* JwksTest::ec_ = nullptr;

// The JWK with one member replaced.
std::string WithMember(const std::string& jwk, const std::string& name, nlohmann::json value) {
  nlohmann::json j = nlohmann::json::parse(jwk);
  j[name] = std::move(value);
  return j.dump();
}

TEST_F(JwksTest, ConvertsRsaAndEcKeysToTheSamePemOpenSslWrites) {
  ASSERT_OK_AND_ASSIGN(KeySet set, ParseJwks(test::JwksJson({*rsa_, *ec_})));
  ASSERT_EQ(set.keys.size(), 2u);
  EXPECT_EQ(set.keys[0].kid, "rsa-1");
  EXPECT_EQ(set.keys[0].alg, "RS256");
  EXPECT_EQ(set.keys[0].pem, rsa_->public_pem);
  EXPECT_EQ(set.keys[1].kid, "ec-1");
  EXPECT_EQ(set.keys[1].alg, "ES256");
  EXPECT_EQ(set.keys[1].pem, ec_->public_pem);
}

TEST_F(JwksTest, SkipsKeysThisVerifierHasNoUseFor) {
  const std::string extra[] = {
      WithMember(rsa2_->jwk, "use", "enc"),  // an encryption key
      R"({"kty":"oct","kid":"hmac","k":"c2VjcmV0"})",
      R"({"kty":"EC","kid":"p384","crv":"P-384","x":"AAAA","y":"AAAA"})",
      R"({"kty":"OKP","kid":"ed","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})",
      WithMember(rsa2_->jwk, "alg", "RS512"),  // published for another algorithm
      WithMember(rsa2_->jwk, "alg", "ES256"),  // contradicts its kty
  };
  ASSERT_OK_AND_ASSIGN(KeySet set,
                       ParseJwks(test::JwksJson(
                           {*rsa_}, std::vector<std::string>(std::begin(extra), std::end(extra)))));
  ASSERT_EQ(set.keys.size(), 1u);
  EXPECT_EQ(set.keys[0].kid, "rsa-1");
}

TEST_F(JwksTest, SkipsRsaKeysShorterThan2048Bits) {
  ASSERT_OK_AND_ASSIGN(test::TestKey weak, test::GenerateRsaKey("weak", 1024));
  ASSERT_OK_AND_ASSIGN(KeySet set, ParseJwks(test::JwksJson({weak, *ec_})));
  ASSERT_EQ(set.keys.size(), 1u);
  EXPECT_EQ(set.keys[0].kid, "ec-1");
}

TEST_F(JwksTest, AcceptsAnEmptyKeyList) {
  ASSERT_OK_AND_ASSIGN(KeySet set, ParseJwks(R"({"keys":[]})"));
  EXPECT_TRUE(set.keys.empty());
}

TEST_F(JwksTest, RejectsGarbage) {
  const std::string bad[] = {
      "",
      "not json",
      "[]",
      "{}",
      R"({"keys":{}})",
      R"({"keys":[1]})",
      test::JwksJson({}, {WithMember(rsa_->jwk, "n", "!!not base64!!")}),
      test::JwksJson({}, {WithMember(rsa_->jwk, "e", 65537)}),
      test::JwksJson({}, {WithMember(rsa_->jwk, "e", "AQ")}),  // e = 1 verifies anything
      test::JwksJson({}, {WithMember(rsa_->jwk, "e", "Ag")}),  // an even exponent
      test::JwksJson({}, {WithMember(ec_->jwk, "x", test::Base64Url(std::string(31, 'x')))}),
  };
  for (const std::string& text : bad) {
    EXPECT_THAT(ParseJwks(text), StatusIs(absl::StatusCode::kInvalidArgument)) << text;
  }
}

TEST_F(JwksTest, RejectsAnEcPointOffTheCurve) {
  // Moving y off the curve is the invalid-curve attack's first step.
  nlohmann::json jwk = nlohmann::json::parse(ec_->jwk);
  std::string y;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(jwk["y"].get<std::string>(), &y));
  y[31] ^= 1;
  jwk["y"] = test::Base64Url(y);
  EXPECT_THAT(ParseJwks(test::JwksJson({}, {jwk.dump()})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a point on P-256")));
}

TEST_F(JwksTest, FindMatchesKidAndAlg) {
  ASSERT_OK_AND_ASSIGN(KeySet set, ParseJwks(test::JwksJson({*rsa_, *rsa2_, *ec_})));
  ASSERT_THAT(set.Find("rsa-2", "RS256"), NotNull());
  EXPECT_EQ(set.Find("rsa-2", "RS256")->kid, "rsa-2");
  EXPECT_THAT(set.Find("rsa-2", "ES256"), IsNull());  // never used for another algorithm
  EXPECT_THAT(set.Find("missing", "RS256"), IsNull());
  // Without a kid: the only key of the algorithm, if it is the only one.
  ASSERT_THAT(set.Find("", "ES256"), NotNull());
  EXPECT_EQ(set.Find("", "ES256")->kid, "ec-1");
  EXPECT_THAT(set.Find("", "RS256"), IsNull());
  EXPECT_THAT(set.Find("", "HS256"), IsNull());
}

// --- JwksFileSource ---

class JwksFileTest : public JwksTest {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(dir_, granary::testing::TempDir::Create("jwks"));
    path_ = dir_->path() + "/jwks.json";
  }
  void Write(const std::string& text) { std::ofstream(path_, std::ios::trunc) << text; }
  absl::StatusOr<std::shared_ptr<JwksFileSource>> Open() {
    return JwksFileSource::Open(path_, clock_);
  }
  static std::vector<std::string> Kids(const KeySet& set) {
    std::vector<std::string> kids;
    for (const PublicKey& key : set.keys) kids.push_back(key.kid);
    return kids;
  }

  std::optional<granary::testing::TempDir> dir_;
  std::string path_;
  base::FakeClock clock_;
};

TEST_F(JwksFileTest, OpenRefusesMissingBrokenOrEmptyFiles) {
  EXPECT_THAT(Open(), StatusIs(absl::StatusCode::kNotFound, HasSubstr(path_)));
  Write("{not json");
  EXPECT_THAT(Open(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(path_)));
  Write(test::JwksJson({}, {R"({"kty":"oct","k":"c2VjcmV0"})"}));
  EXPECT_THAT(Open(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no RS256 or ES256")));
}

TEST_F(JwksFileTest, ConstructedSourceReadsOnFirstUseAndRetriesOnSchedule) {
  JwksFileSource source(path_, clock_);
  EXPECT_EQ(source.reads(), 0);
  EXPECT_THAT(source.Keys(), StatusIs(absl::StatusCode::kUnavailable, HasSubstr(path_)));
  Write(test::JwksJson({*rsa_}));
  // The failed read holds off the next one, whatever asks.
  EXPECT_THAT(source.Keys(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(source.KeysAfterUnknownKid(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(source.reads(), 1);
  clock_.Advance(absl::Seconds(30));
  ASSERT_OK_AND_ASSIGN(auto keys, source.Keys());
  EXPECT_THAT(Kids(*keys), ::testing::ElementsAre("rsa-1"));
  EXPECT_EQ(source.reads(), 2);
}

TEST_F(JwksFileTest, UnknownKidRereadsTheFileAtMostOncePerInterval) {
  Write(test::JwksJson({*rsa_}));
  ASSERT_OK_AND_ASSIGN(auto source, Open());
  Write(test::JwksJson({*rsa_, *rsa2_}));  // the issuer rotates in a new key

  // Within the interval after the first read, a storm of unknown kids reads nothing.
  for (int i = 0; i < 100; ++i) {
    ASSERT_OK_AND_ASSIGN(auto keys, source->KeysAfterUnknownKid());
    EXPECT_THAT(Kids(*keys), ::testing::ElementsAre("rsa-1"));
  }
  EXPECT_EQ(source->reads(), 1);

  clock_.Advance(absl::Seconds(30));
  for (int i = 0; i < 100; ++i) {
    ASSERT_OK_AND_ASSIGN(auto keys, source->KeysAfterUnknownKid());
    EXPECT_THAT(Kids(*keys), ::testing::ElementsAre("rsa-1", "rsa-2"));
  }
  EXPECT_EQ(source->reads(), 2);
}

TEST_F(JwksFileTest, ABrokenRewriteKeepsTheHeldKeys) {
  Write(test::JwksJson({*rsa_}));
  ASSERT_OK_AND_ASSIGN(auto source, Open());
  Write("{\"keys\": [");  // half-written
  clock_.Advance(absl::Minutes(1));
  ASSERT_OK_AND_ASSIGN(auto keys, source->KeysAfterUnknownKid());
  EXPECT_THAT(Kids(*keys), ::testing::ElementsAre("rsa-1"));
  // The failed read counts against the interval too.
  Write(test::JwksJson({*rsa2_}));
  ASSERT_OK_AND_ASSIGN(keys, source->KeysAfterUnknownKid());
  EXPECT_THAT(Kids(*keys), ::testing::ElementsAre("rsa-1"));
  EXPECT_EQ(source->reads(), 2);
}

TEST_F(JwksFileTest, KeysOlderThanMaxAgeAreReread) {
  Write(test::JwksJson({*rsa_, *rsa2_}));
  ASSERT_OK_AND_ASSIGN(auto source, Open());
  Write(test::JwksJson({*rsa2_}));  // rsa-1 revoked
  clock_.Advance(absl::Minutes(4));
  ASSERT_OK_AND_ASSIGN(auto keys, source->Keys());
  EXPECT_EQ(keys->keys.size(), 2u);
  clock_.Advance(absl::Minutes(1));
  ASSERT_OK_AND_ASSIGN(keys, source->Keys());
  EXPECT_THAT(Kids(*keys), ::testing::ElementsAre("rsa-2"));
  EXPECT_EQ(source->reads(), 2);
}

}  // namespace
}  // namespace granary::auth
