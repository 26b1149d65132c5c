#include "services/gateway/rate_limiter.h"

#include "gtest/gtest.h"

namespace granary::gateway {
namespace {

auth::Identity Who(std::string user, std::vector<std::string> roles) {
  return {std::move(user), std::move(roles), {}};
}

TEST(RateLimiterTest, ABurstThenOneTokenPerInterval) {
  base::FakeClock clock;
  RateLimiter limiter({.default_limit = {.rate = 2, .burst = 3}}, clock);
  auth::Identity ana = Who("ana", {});
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.Admit(ana), absl::ZeroDuration()) << i;
  absl::Duration wait = limiter.Admit(ana);
  EXPECT_EQ(wait, absl::Milliseconds(500));  // one token at 2/s
  clock.Advance(absl::Milliseconds(500));
  EXPECT_EQ(limiter.Admit(ana), absl::ZeroDuration());
  EXPECT_GT(limiter.Admit(ana), absl::ZeroDuration());
  // Another user has a bucket of its own.
  EXPECT_EQ(limiter.Admit(Who("bob", {})), absl::ZeroDuration());
}

TEST(RateLimiterTest, TheMostGenerousRoleWinsAndZeroIsUnlimited) {
  base::FakeClock clock;
  RateLimitConfig config;
  config.default_limit = {.rate = 1, .burst = 1};
  config.by_role["reader"] = {.rate = 1, .burst = 2};
  config.by_role["batch"] = {.rate = 1, .burst = 5};
  config.by_role["admin"] = {.rate = 0, .burst = 0};
  RateLimiter limiter(config, clock);
  auth::Identity both = Who("cy", {"reader", "batch"});
  for (int i = 0; i < 5; ++i) EXPECT_EQ(limiter.Admit(both), absl::ZeroDuration()) << i;
  EXPECT_GT(limiter.Admit(both), absl::ZeroDuration());
  auth::Identity admin = Who("root", {"reader", "admin"});
  for (int i = 0; i < 100; ++i) ASSERT_EQ(limiter.Admit(admin), absl::ZeroDuration()) << i;
  // No listed role: the default.
  auth::Identity other = Who("dee", {"visitor"});
  EXPECT_EQ(limiter.Admit(other), absl::ZeroDuration());
  EXPECT_EQ(limiter.Admit(other), absl::Seconds(1));
}

TEST(RateLimiterTest, TokensNeverPileUpPastTheBurst) {
  base::FakeClock clock;
  RateLimiter limiter({.default_limit = {.rate = 10, .burst = 2}}, clock);
  auth::Identity ana = Who("ana", {});
  clock.Advance(absl::Hours(1));
  EXPECT_EQ(limiter.Admit(ana), absl::ZeroDuration());
  EXPECT_EQ(limiter.Admit(ana), absl::ZeroDuration());
  EXPECT_GT(limiter.Admit(ana), absl::ZeroDuration());
}

TEST(RateLimiterTest, AnAddressWhoseAuthenticationsKeepFailingIsHeldBack) {
  base::FakeClock clock;
  RateLimitConfig config;
  config.failures = {.rate = 1, .burst = 3};
  RateLimiter limiter(config, clock);
  const std::string mallory = "ipv4:10.0.0.66";
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(limiter.FailuresBlock(mallory), absl::ZeroDuration()) << i;
    limiter.ChargeFailure(mallory);
  }
  EXPECT_GT(limiter.FailuresBlock(mallory), absl::ZeroDuration());
  // Asking does not spend: another address, and users, are not affected.
  EXPECT_EQ(limiter.FailuresBlock("ipv4:10.0.0.7"), absl::ZeroDuration());
  EXPECT_EQ(limiter.Admit(Who("ana", {})), absl::ZeroDuration());
  // Failing again while held back keeps it held back longer.
  limiter.ChargeFailure(mallory);
  clock.Advance(absl::Seconds(1));
  EXPECT_GT(limiter.FailuresBlock(mallory), absl::ZeroDuration());
  clock.Advance(absl::Seconds(1));
  EXPECT_EQ(limiter.FailuresBlock(mallory), absl::ZeroDuration());
}

TEST(RateLimiterTest, AUserNamedLikeAnAddressHasABucketOfItsOwn) {
  base::FakeClock clock;
  RateLimitConfig config;
  config.default_limit = {.rate = 1, .burst = 1};
  config.failures = {.rate = 1, .burst = 1};
  RateLimiter limiter(config, clock);
  limiter.ChargeFailure("ipv4:10.0.0.66");
  EXPECT_EQ(limiter.Admit(Who("failed:ipv4:10.0.0.66", {})), absl::ZeroDuration());
}

}  // namespace
}  // namespace granary::gateway
