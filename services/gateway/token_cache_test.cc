#include "services/gateway/token_cache.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "libs/testing/status_matchers.h"

namespace granary::gateway {
namespace {

// Answers from a table of tokens and counts how often it was asked.
class Counting : public auth::Authenticator {
 public:
  absl::StatusOr<auth::Identity> Authenticate(absl::string_view token) override {
    ++calls;
    if (token == "bad") return absl::UnauthenticatedError("bad signature");
    auth::Identity who{std::string(token), {"reader"}, {}};
    who.valid_until = valid_until;
    return who;
  }
  bool MayWait(absl::string_view) override { return may_wait; }
  int calls = 0;
  bool may_wait = false;
  absl::Time valid_until = absl::InfiniteFuture();
};

TEST(TokenCacheTest, ARememberedTokenNeverWaits) {
  base::FakeClock clock;
  auto inner = std::make_unique<Counting>();
  inner->may_wait = true;
  TokenCache cache(std::move(inner), clock, absl::Seconds(60));
  EXPECT_TRUE(cache.MayWait("ana"));  // the inner check would fetch
  ASSERT_OK(cache.Authenticate("ana").status());
  EXPECT_FALSE(cache.MayWait("ana"));
  EXPECT_TRUE(cache.MayWait("bob"));
  clock.Advance(absl::Seconds(61));  // past max_age: checked (and maybe fetched) again
  EXPECT_TRUE(cache.MayWait("ana"));
}

TEST(TokenCacheTest, AuthenticateUnlessWaitingAnswersOnlyWhatNeedNotWait) {
  base::FakeClock clock;
  auto inner = std::make_unique<Counting>();
  Counting* counting = inner.get();
  inner->may_wait = true;
  TokenCache cache(std::move(inner), clock);
  EXPECT_EQ(cache.AuthenticateUnlessWaiting("ana"), std::nullopt);  // would wait: not checked
  EXPECT_EQ(counting->calls, 0);
  ASSERT_OK(cache.Authenticate("ana").status());
  auto remembered = cache.AuthenticateUnlessWaiting("ana");
  ASSERT_TRUE(remembered.has_value());
  ASSERT_OK(remembered->status());
  EXPECT_EQ((*remembered)->user, "ana");
  EXPECT_EQ(counting->calls, 1);
  counting->may_wait = false;  // a local check runs at once
  auto local = cache.AuthenticateUnlessWaiting("bad");
  ASSERT_TRUE(local.has_value());
  EXPECT_EQ(local->status().code(), absl::StatusCode::kUnauthenticated);
}

TEST(TokenCacheTest, ASecondCallWithTheSameTokenIsNotCheckedAgain) {
  base::FakeClock clock;
  auto inner = std::make_unique<Counting>();
  Counting* counting = inner.get();
  TokenCache cache(std::move(inner), clock);
  ASSERT_OK_AND_ASSIGN(auth::Identity first, cache.Authenticate("ana"));
  ASSERT_OK_AND_ASSIGN(auth::Identity second, cache.Authenticate("ana"));
  EXPECT_EQ(second.user, "ana");
  EXPECT_EQ(second.roles, first.roles);
  EXPECT_EQ(counting->calls, 1);
  ASSERT_OK(cache.Authenticate("bob").status());
  EXPECT_EQ(counting->calls, 2);
}

TEST(TokenCacheTest, AnEntryEndsWithTheTokenOrAfterMaxAge) {
  base::FakeClock clock;
  auto inner = std::make_unique<Counting>();
  Counting* counting = inner.get();
  counting->valid_until = clock.Now() + absl::Seconds(10);
  TokenCache cache(std::move(inner), clock, absl::Seconds(60));
  ASSERT_OK(cache.Authenticate("ana").status());
  clock.Advance(absl::Seconds(9));
  ASSERT_OK(cache.Authenticate("ana").status());
  EXPECT_EQ(counting->calls, 1);
  clock.Advance(absl::Seconds(2));  // past the token's validity: checked again
  ASSERT_OK(cache.Authenticate("ana").status());
  EXPECT_EQ(counting->calls, 2);

  counting->valid_until = absl::InfiniteFuture();
  ASSERT_OK(cache.Authenticate("long").status());
  clock.Advance(absl::Seconds(59));
  ASSERT_OK(cache.Authenticate("long").status());
  EXPECT_EQ(counting->calls, 3);
  clock.Advance(absl::Seconds(2));  // past max_age
  ASSERT_OK(cache.Authenticate("long").status());
  EXPECT_EQ(counting->calls, 4);
}

TEST(TokenCacheTest, RefusalsAndMissingTokensAreNeverRemembered) {
  base::FakeClock clock;
  auto inner = std::make_unique<Counting>();
  Counting* counting = inner.get();
  TokenCache cache(std::move(inner), clock);
  EXPECT_EQ(cache.Authenticate("bad").status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(cache.Authenticate("bad").status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(counting->calls, 2);
  ASSERT_OK(cache.Authenticate("").status());
  ASSERT_OK(cache.Authenticate("").status());
  EXPECT_EQ(counting->calls, 4);
}

TEST(TokenCacheTest, AFullCacheStartsOverAndKeepsAnswering) {
  base::FakeClock clock;
  auto inner = std::make_unique<Counting>();
  Counting* counting = inner.get();
  TokenCache cache(std::move(inner), clock, absl::Seconds(60), /*max_entries=*/2);
  for (const char* token : {"a", "b", "c", "a"}) {
    ASSERT_OK_AND_ASSIGN(auth::Identity who, cache.Authenticate(token));
    EXPECT_EQ(who.user, token);
  }
  EXPECT_EQ(counting->calls, 4);  // "c" cleared the full cache, so "a" was checked again
}

}  // namespace
}  // namespace granary::gateway
