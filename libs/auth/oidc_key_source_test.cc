#include "libs/auth/oidc_key_source.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "libs/auth/test_http_server.h"
#include "libs/base/clock.h"
#include "libs/testing/status_matchers.h"

namespace granary::auth {
namespace {

using ::granary::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Public halves of two RSA 2048 keys made once with `openssl genrsa`: test data only.
constexpr char kKey1[] =
    R"({"kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig", "e": "AQAB", "n": )"
    R"("xYL3aqJq0q7axduMQ_U5VpvzrUNvVkoAp6Azm4h47XAVMQ0jTEkIayyf6ZXWkQv_87nXmEjLMAkm5rEt2k)"
    R"(Syeo3QWpU8p8ax_Mfagx-eCHPcHXgspGvl_aVW3x6xGlRgm7g2b82xhXNB1Eaiq00ShcutWfOsnsPQCgvcMA)"
    R"(jR3M5VS8s5AzcHL5-Pi7PM2GIqEFotgYKW1WHPZNHepmEYMSFoG55KRtuGtF01C9LOmyRqTIXvo68W7JDMIu)"
    R"(GGQcgYprPhWFxtSJAznIQVCLnKyNHLvwNBlWgWsv2W6lnjTqo-FkLg-gPRcT9WgsKil-KW8TBL9IKB3TXh_U)"
    R"(lNw3hpMQ"})";
constexpr char kKey2[] =
    R"({"kty": "RSA", "kid": "k2", "alg": "RS256", "use": "sig", "e": "AQAB", "n": )"
    R"("yqV450k4tDTb-jtKbMgBLJj7AhoB4Tva_YozI5UTBD4dtsZ6oEzKcbLxBLNVR20oArgZXkdcHcTQWIRXz1)"
    R"(bcdoJD7rMoMvnx-MYeIR8H_w-7q51xOhmOSM7rVO0BsRVjZX8n6CsOwAT_qHHOwh8rX5bhVMS8wYOdS365-j)"
    R"(xqroDdNf7yNs5HDYY1Jryui4pxoy-8HcObbPZUYekX4pECsxVASQQoqag_aQrS6ZGmBHap8-ybUeYF_Fszu3)"
    R"(-jUgi14-uavl5g3osTe3BU5Qj06dhBjtRfzHXQK5Y-ILmAD3OIwjUTMygIz0bnC5BXINtJKJCR4tfQZVkTBl)"
    R"(1cIiWnfQ"})";

constexpr char kDiscoveryPath[] = "/realms/ml/.well-known/openid-configuration";
constexpr char kJwksPath[] = "/realms/ml/protocol/openid-connect/certs";

std::string Jwks(const std::vector<std::string>& keys) {
  return absl::StrCat(R"({"keys": [)", absl::StrJoin(keys, ", "), "]}");
}

std::vector<std::string> Kids(const std::shared_ptr<const KeySet>& keys) {
  std::vector<std::string> kids;
  for (const PublicKey& key : keys->keys) kids.push_back(key.kid);
  return kids;
}

std::vector<std::string> Kids(const absl::StatusOr<std::shared_ptr<const KeySet>>& keys) {
  if (!keys.ok()) return {keys.status().ToString()};
  return Kids(*keys);
}

class OidcKeySourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(server_, TestHttpServer::Start());
    issuer_ = server_->url() + "/realms/ml";
    ServeDiscovery(absl::StrCat(R"({"issuer": ")", issuer_, R"(", "jwks_uri": ")", server_->url(),
                                kJwksPath, R"("})"));
    ServeJwks(200, Jwks({kKey1}));
    options_.discovery_url = server_->url() + kDiscoveryPath;
  }

  void ServeDiscovery(std::string body, int status = 200) {
    server_->Handle("GET", kDiscoveryPath, [body, status](const TestHttpRequest&) {
      return TestHttpResponse{status, body};
    });
  }
  void ServeJwks(int status, std::string body) {
    server_->Handle("GET", kJwksPath, [body, status](const TestHttpRequest&) {
      return TestHttpResponse{status, body};
    });
  }
  int discoveries() const { return server_->RequestCount(kDiscoveryPath); }
  int jwks_fetches() const { return server_->RequestCount(kJwksPath); }

  std::unique_ptr<TestHttpServer> server_;
  std::string issuer_;
  OidcOptions options_;
  base::FakeClock clock_;
};

TEST_F(OidcKeySourceTest, FetchesDiscoveryAndJwksOnceThenCaches) {
  OidcKeySource source(options_, clock_);
  EXPECT_EQ(source.issuer(), "");
  for (int i = 0; i < 5; ++i) {
    ASSERT_OK_AND_ASSIGN(auto keys, source.Keys());
    EXPECT_THAT(Kids(keys), ElementsAre("k1"));
    ASSERT_NE(keys->Find("k1", "RS256"), nullptr);
    EXPECT_THAT(keys->Find("k1", "RS256")->pem, HasSubstr("BEGIN PUBLIC KEY"));
    clock_.Advance(absl::Minutes(10));  // Still within the hour's cache_ttl at the end.
  }
  EXPECT_EQ(discoveries(), 1);
  EXPECT_EQ(jwks_fetches(), 1);
  EXPECT_EQ(source.issuer(), issuer_);

  // Aged out: both documents again, so a key the issuer removed stops verifying.
  clock_.Advance(absl::Minutes(11));
  ServeJwks(200, Jwks({kKey2}));
  ASSERT_OK_AND_ASSIGN(auto keys, source.Keys());
  EXPECT_THAT(Kids(keys), ElementsAre("k2"));
  EXPECT_EQ(discoveries(), 2);
  EXPECT_EQ(jwks_fetches(), 2);
}

TEST_F(OidcKeySourceTest, MayWaitSaysWhenAVerificationWouldFetch) {
  OidcKeySource source(options_, clock_);
  EXPECT_TRUE(source.MayWait("k1", "RS256"));  // nothing held yet
  ASSERT_OK(source.Keys().status());
  EXPECT_FALSE(source.MayWait("k1", "RS256"));  // held and fresh
  // A kid the keys lack: refused at once while a refetch is not due, fetched after.
  EXPECT_FALSE(source.MayWait("k9", "RS256"));
  clock_.Advance(options_.min_refresh_interval);
  EXPECT_TRUE(source.MayWait("k9", "RS256"));
  EXPECT_FALSE(source.MayWait("k1", "RS256"));
  // Past the cache's lifetime every verification would fetch first.
  clock_.Advance(options_.cache_ttl);
  EXPECT_TRUE(source.MayWait("k1", "RS256"));
  EXPECT_EQ(jwks_fetches(), 1);  // asking fetched nothing
}

TEST_F(OidcKeySourceTest, ADiscoveryDocumentOfAnotherIssuerIsNotUsed) {
  options_.expected_issuer = "https://idp.example.com/realms/other";
  OidcKeySource source(options_, clock_);
  absl::StatusOr<std::shared_ptr<const KeySet>> keys = source.Keys();
  EXPECT_EQ(keys.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(keys.status().message(), HasSubstr("not the configured"));
  EXPECT_EQ(jwks_fetches(), 0);
  // The right one is.
  options_.expected_issuer = issuer_;
  OidcKeySource right(options_, clock_);
  ASSERT_OK_AND_ASSIGN(auto held, right.Keys());
  EXPECT_THAT(Kids(held), ElementsAre("k1"));
}

TEST_F(OidcKeySourceTest, UnknownKidRefreshPicksUpRotatedKeys) {
  OidcKeySource source(options_, clock_);
  ASSERT_OK(source.Keys());
  ServeJwks(200, Jwks({kKey1, kKey2}));
  clock_.Advance(options_.min_refresh_interval);
  ASSERT_OK_AND_ASSIGN(auto keys, source.KeysAfterUnknownKid());
  EXPECT_THAT(Kids(keys), ElementsAre("k1", "k2"));
  // The rotation changed the key set only: the discovery document is not fetched again.
  EXPECT_EQ(discoveries(), 1);
  EXPECT_EQ(jwks_fetches(), 2);
  ASSERT_OK_AND_ASSIGN(keys, source.Keys());
  EXPECT_THAT(Kids(keys), ElementsAre("k1", "k2"));
  EXPECT_EQ(jwks_fetches(), 2);
}

TEST_F(OidcKeySourceTest, RefreshStormIsRateLimited) {
  OidcKeySource source(options_, clock_);
  ASSERT_OK(source.Keys());
  ServeJwks(200, Jwks({kKey2}));
  // Forged kids right after a fetch: none reaches the issuer.
  for (int i = 0; i < 20; ++i) {
    ASSERT_OK_AND_ASSIGN(auto keys, source.KeysAfterUnknownKid());
    EXPECT_THAT(Kids(keys), ElementsAre("k1"));
  }
  EXPECT_EQ(jwks_fetches(), 1);

  clock_.Advance(options_.min_refresh_interval);
  for (int i = 0; i < 20; ++i) {
    ASSERT_OK_AND_ASSIGN(auto keys, source.KeysAfterUnknownKid());
    EXPECT_THAT(Kids(keys), ElementsAre("k2"));
    clock_.Advance(absl::Seconds(1));
  }
  EXPECT_EQ(jwks_fetches(), 2);  // 20 s of storm, one fetch.
  clock_.Advance(absl::Seconds(10));
  ASSERT_OK(source.KeysAfterUnknownKid());
  EXPECT_EQ(jwks_fetches(), 3);
}

TEST_F(OidcKeySourceTest, ConcurrentCallersShareOneFetch) {
  OidcKeySource source(options_, clock_);
  ASSERT_OK(source.Keys());
  absl::Notification entered;
  absl::Notification release;
  server_->Handle("GET", kJwksPath, [&](const TestHttpRequest&) {
    entered.Notify();
    release.WaitForNotification();
    return TestHttpResponse{200, Jwks({kKey2})};
  });
  clock_.Advance(options_.min_refresh_interval);

  std::vector<std::vector<std::string>> seen(4);
  std::vector<std::thread> callers;
  callers.emplace_back([&] { seen[0] = Kids(source.KeysAfterUnknownKid()); });
  entered.WaitForNotification();
  // These find a fetch running and wait for it instead of answering with the old keys.
  for (int i = 1; i < 4; ++i) {
    callers.emplace_back([&, i] { seen[i] = Kids(source.KeysAfterUnknownKid()); });
  }
  release.Notify();
  for (std::thread& t : callers) t.join();
  for (const auto& kids : seen) EXPECT_THAT(kids, ElementsAre("k2"));
  EXPECT_EQ(jwks_fetches(), 2);
  server_->Stop();  // The handler uses this test's locals.
}

TEST_F(OidcKeySourceTest, IssuerDownIsUnavailable) {
  server_->Stop();
  OidcKeySource source(options_, clock_);
  EXPECT_THAT(source.Keys(), StatusIs(absl::StatusCode::kUnavailable, HasSubstr(kDiscoveryPath)));
  EXPECT_THAT(source.KeysAfterUnknownKid(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(source.issuer(), "");
}

TEST_F(OidcKeySourceTest, RecoversAfterTheIssuerComesBack) {
  ServeDiscovery("{}", 503);
  OidcKeySource source(options_, clock_);
  EXPECT_THAT(source.Keys(), StatusIs(absl::StatusCode::kUnavailable));
  ServeDiscovery(absl::StrCat(R"({"issuer": ")", issuer_, R"(", "jwks_uri": ")", server_->url(),
                              kJwksPath, R"("})"));
  EXPECT_THAT(source.Keys(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(discoveries(), 1);
  clock_.Advance(options_.min_refresh_interval);
  ASSERT_OK_AND_ASSIGN(auto keys, source.Keys());
  EXPECT_THAT(Kids(keys), ElementsAre("k1"));
  EXPECT_EQ(discoveries(), 2);
}

TEST_F(OidcKeySourceTest, FailedRefreshKeepsTheHeldKeys) {
  OidcKeySource source(options_, clock_);
  ASSERT_OK(source.Keys());
  ServeJwks(500, "oops");
  clock_.Advance(options_.cache_ttl);
  ASSERT_OK_AND_ASSIGN(auto keys, source.Keys());
  EXPECT_THAT(Kids(keys), ElementsAre("k1"));
  EXPECT_EQ(jwks_fetches(), 2);
  clock_.Advance(options_.min_refresh_interval);
  server_->Stop();
  ASSERT_OK_AND_ASSIGN(keys, source.KeysAfterUnknownKid());
  EXPECT_THAT(Kids(keys), ElementsAre("k1"));
}

TEST_F(OidcKeySourceTest, TimeoutIsHonoured) {
  absl::Notification entered;
  absl::Notification release;
  std::atomic<bool> handler_returned{false};
  server_->Handle("GET", kJwksPath, [&](const TestHttpRequest&) {
    entered.Notify();
    release.WaitForNotification();
    handler_returned = true;
    return TestHttpResponse{200, Jwks({kKey1})};
  });
  options_.timeout = absl::Milliseconds(500);
  OidcKeySource source(options_, clock_);
  EXPECT_THAT(source.Keys(), StatusIs(absl::StatusCode::kUnavailable, HasSubstr(kJwksPath)));
  // The fetch gave up on its own: the issuer is still holding the request.
  EXPECT_TRUE(entered.HasBeenNotified());
  EXPECT_FALSE(handler_returned);
  release.Notify();
  server_->Stop();
}

TEST_F(OidcKeySourceTest, MalformedDocumentsAreUnavailable) {
  struct Case {
    std::string discovery;
    std::string jwks;
    std::string expected;
  };
  const std::string good_discovery = absl::StrCat(R"({"issuer": ")", issuer_, R"(", "jwks_uri": ")",
                                                  server_->url(), kJwksPath, R"("})");
  const std::vector<Case> cases = {
      {"not json", Jwks({kKey1}), "not a JSON object"},
      {absl::StrCat(R"({"issuer": ")", issuer_, R"("})"), Jwks({kKey1}), "no jwks_uri"},
      {absl::StrCat(R"({"jwks_uri": ")", server_->url(), kJwksPath, R"("})"), Jwks({kKey1}),
       "no issuer"},
      // A remote jwks_uri over plain http is refused before any connection.
      {absl::StrCat(R"({"issuer": ")", issuer_, R"(", "jwks_uri": "http://idp.example.com/c"})"),
       Jwks({kKey1}), "loopback"},
      {good_discovery, "[]", "OIDC JWKS"},
      {good_discovery, Jwks({R"({"kty": "oct", "kid": "h", "k": "c2VjcmV0"})"}), "no RS256"},
  };
  for (const Case& c : cases) {
    ServeDiscovery(c.discovery);
    ServeJwks(200, c.jwks);
    OidcKeySource source(options_, clock_);
    EXPECT_THAT(source.Keys(), StatusIs(absl::StatusCode::kUnavailable, HasSubstr(c.expected)))
        << c.discovery << " / " << c.jwks;
  }
}

}  // namespace
}  // namespace granary::auth
