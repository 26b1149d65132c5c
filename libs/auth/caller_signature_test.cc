#include "libs/auth/caller_signature.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace granary::auth {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kMethod[] = "/granary.registry.v1.RegistryService/Apply";
const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

config::Secret Key(absl::string_view value = "0123456789abcdef0123456789abcdef") {
  return config::Secret::FromValue(std::string(value), "test");
}

Identity Alice() {
  Identity who;
  who.user = "alice";
  who.roles = {"admin", "reader"};
  who.groups = {"ml-platform"};
  return who;
}

// "v1.<payload>.<mac>" for any payload text, MAC'd with `key` as the signer does: what a
// signer with the right key but a broken payload would send.
std::string SignRaw(absl::string_view payload, absl::string_view key) {
  std::string signed_part = absl::StrCat("v1.", absl::WebSafeBase64Escape(payload));
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size(), mac, &len);
  return absl::StrCat(signed_part, ".",
                      absl::WebSafeBase64Escape(absl::string_view(
                          reinterpret_cast<const char*>(mac), static_cast<size_t>(len))));
}

absl::Status Refusal(absl::string_view header, absl::string_view method = kMethod,
                     absl::Time now = kNow) {
  return CallerVerifier(Key()).Verify(header, method, now).status();
}

TEST(CallerSignatureTest, WhatIsSignedIsWhatIsVerified) {
  std::string header = CallerSigner(Key(), absl::Seconds(60)).Sign(Alice(), kMethod, kNow);
  EXPECT_TRUE(absl::StartsWith(header, "v1."));
  absl::StatusOr<Identity> who = CallerVerifier(Key()).Verify(header, kMethod, kNow);
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(who->user, "alice");
  EXPECT_THAT(who->roles, ElementsAre("admin", "reader"));
  EXPECT_THAT(who->groups, ElementsAre("ml-platform"));
}

TEST(CallerSignatureTest, AHeaderIsUsableInMetadata) {
  // gRPC metadata values must be printable ASCII: base64url and dots are.
  Identity who = Alice();
  who.user = "Zoë \"the admin\"\n";
  std::string header = CallerSigner(Key(), absl::Seconds(60)).Sign(who, kMethod, kNow);
  for (char c : header) EXPECT_TRUE(c > 0x20 && c < 0x7f) << header;
  absl::StatusOr<Identity> back = CallerVerifier(Key()).Verify(header, kMethod, kNow);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->user, who.user);
}

TEST(CallerSignatureTest, ANameThatIsNotUtf8IsSignedNotThrown) {
  // Names come from tokens and headers; a stray byte must not take the gateway down.
  Identity who = Alice();
  who.user = "al\xffice";
  std::string header = CallerSigner(Key(), absl::Seconds(60)).Sign(who, kMethod, kNow);
  absl::StatusOr<Identity> back = CallerVerifier(Key()).Verify(header, kMethod, kNow);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(absl::StartsWith(back->user, "al"));
  EXPECT_NE(back->user, "alice");
}

TEST(CallerSignatureTest, AChangedPayloadIsRefused) {
  std::string header = CallerSigner(Key(), absl::Seconds(60)).Sign(Alice(), kMethod, kNow);
  std::vector<std::string> parts = absl::StrSplit(header, '.');
  ASSERT_EQ(parts.size(), 3u);
  std::string payload;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(parts[1], &payload));
  absl::StrReplaceAll({{"alice", "mallory"}}, &payload);
  std::string forged =
      absl::StrCat(parts[0], ".", absl::WebSafeBase64Escape(payload), ".", parts[2]);
  absl::Status refused = Refusal(forged);
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(refused.message(), HasSubstr("bad signature"));
}

TEST(HmacSha256Test, MatchesRfc4231) {
  // RFC 4231, test case 2, and the same MAC from many threads at once.
  const HmacSha256 hmac("Jefe");
  const std::string expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
  EXPECT_EQ(absl::BytesToHexString(hmac.Mac("what do ya want for nothing?")), expected);
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        if (absl::BytesToHexString(hmac.Mac("what do ya want for nothing?")) != expected) ++wrong;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(CallerSignatureTest, AnEmptyMacIsRefused) {
  std::string header = CallerSigner(Key(), absl::Seconds(60)).Sign(Alice(), kMethod, kNow);
  EXPECT_THAT(Refusal(header.substr(0, header.rfind('.') + 1)).message(),
              HasSubstr("bad signature"));
}

TEST(CallerSignatureTest, AChangedMacIsRefused) {
  std::string header = CallerSigner(Key(), absl::Seconds(60)).Sign(Alice(), kMethod, kNow);
  std::string mac;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(header.substr(header.rfind('.') + 1), &mac));
  mac[0] ^= 1;
  std::string forged =
      absl::StrCat(header.substr(0, header.rfind('.') + 1), absl::WebSafeBase64Escape(mac));
  EXPECT_THAT(Refusal(forged).message(), HasSubstr("bad signature"));
  // A truncated MAC is no shortcut either.
  EXPECT_THAT(Refusal(absl::StrCat(header.substr(0, header.rfind('.') + 1),
                                   absl::WebSafeBase64Escape(mac.substr(0, 8))))
                  .message(),
              HasSubstr("bad signature"));
}

TEST(CallerSignatureTest, ASignatureWithAnotherKeyIsRefused) {
  std::string header = CallerSigner(Key("another secret of at least 32 bytes!"), absl::Seconds(60))
                           .Sign(Alice(), kMethod, kNow);
  absl::Status refused = Refusal(header);
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(refused.message(), HasSubstr("bad signature"));
}

TEST(CallerSignatureTest, ExpiryHasTheLeewayAndNoMore) {
  CallerSigner signer(Key(), absl::Seconds(60));
  CallerVerifier verifier(Key(), absl::Seconds(5));
  std::string header = signer.Sign(Alice(), kMethod, kNow);
  EXPECT_TRUE(verifier.Verify(header, kMethod, kNow + absl::Seconds(60)).ok());
  EXPECT_TRUE(verifier.Verify(header, kMethod, kNow + absl::Seconds(65)).ok());
  absl::Status expired = verifier.Verify(header, kMethod, kNow + absl::Seconds(66)).status();
  EXPECT_EQ(expired.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(expired.message(), HasSubstr("expired"));
  // Without leeway, a second past the expiry is too late.
  EXPECT_FALSE(CallerVerifier(Key(), absl::ZeroDuration())
                   .Verify(header, kMethod, kNow + absl::Seconds(61))
                   .ok());
}

TEST(CallerSignatureTest, ASignatureForAnotherMethodIsRefused) {
  std::string header = CallerSigner(Key(), absl::Seconds(60))
                           .Sign(Alice(), "/granary.registry.v1.RegistryService/Plan", kNow);
  absl::Status refused = Refusal(header);
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(refused.message(), HasSubstr("another method"));
  // Nor does a prefix of the path pass.
  EXPECT_FALSE(Refusal(header, "/granary.registry.v1.RegistryService/Pla").ok());
}

TEST(CallerSignatureTest, MalformedHeadersAreRefusedSayingSo) {
  EXPECT_THAT(Refusal("").message(), HasSubstr("missing"));
  for (absl::string_view header :
       {"v1", "v1.abc", "v1.a.b.c", "v2.abc.def", ".abc.def", "v1.abc.!!!", "garbage"}) {
    absl::Status refused = Refusal(header);
    EXPECT_EQ(refused.code(), absl::StatusCode::kUnauthenticated) << header;
    EXPECT_THAT(refused.message(), HasSubstr("malformed")) << header;
  }
}

TEST(CallerSignatureTest, AValidMacOverABadPayloadIsStillRefused) {
  // Only someone with the key could send these; the verifier must not trust their shape.
  const std::string key(Key().value());
  for (absl::string_view payload : {
           "not json",
           "[1, 2]",
           R"({"u": "alice", "r": [], "g": [], "m": "/granary.registry.v1.RegistryService/Apply"})",
           R"({"u": 7, "r": [], "g": [], "m": "/x/y", "exp": 1700000060})",
           R"({"u": "alice", "r": "admin", "g": [], "m": "/x/y", "exp": 1700000060})",
           R"({"u": "alice", "r": [], "g": [], "exp": 1700000060})",
           R"({"u": "alice", "r": [], "g": [], "m": "/x/y", "exp": "tomorrow"})",
       }) {
    absl::Status refused = Refusal(SignRaw(payload, key));
    EXPECT_EQ(refused.code(), absl::StatusCode::kUnauthenticated) << payload;
    EXPECT_THAT(refused.message(), HasSubstr("malformed")) << payload;
  }
  // Roles and groups that are not strings are dropped, not trusted as something else.
  absl::StatusOr<Identity> who = CallerVerifier(Key()).Verify(
      SignRaw(absl::StrCat(R"({"u": "alice", "r": ["admin", 3, null], "g": [{}], "m": ")", kMethod,
                           R"(", "exp": 1700000060})"),
              key),
      kMethod, kNow);
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_THAT(who->roles, ElementsAre("admin"));
  EXPECT_TRUE(who->groups.empty());
}

}  // namespace
}  // namespace granary::auth
