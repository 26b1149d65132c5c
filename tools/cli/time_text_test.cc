#include "tools/cli/time_text.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "libs/testing/status_matchers.h"

namespace granary::cli {
namespace {

using ::granary::testing::IsOkAndHolds;
using ::granary::testing::StatusIs;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

TEST(TimeTextTest, EveryFormAccepted) {
  EXPECT_THAT(ParseTimeText("2026-11-21T10:00:00.123456Z", kNow),
              IsOkAndHolds(absl::FromUnixMicros(1'795'255'200'123'456)));
  EXPECT_THAT(ParseTimeText("2026-11-21 10:00:00", kNow),
              IsOkAndHolds(absl::FromUnixSeconds(1'795'255'200)));
  EXPECT_THAT(ParseTimeText(" 1795255200 ", kNow),
              IsOkAndHolds(absl::FromUnixSeconds(1'795'255'200)));
  bool used = false;
  EXPECT_THAT(ParseTimeText("now", kNow, &used), IsOkAndHolds(kNow));
  EXPECT_TRUE(used);
  EXPECT_THAT(ParseTimeText("now-5m", kNow), IsOkAndHolds(kNow - absl::Minutes(5)));
  EXPECT_THAT(ParseTimeText("now+1h", kNow), IsOkAndHolds(kNow + absl::Hours(1)));
  EXPECT_THAT(ParseTimeText("now-1d12h", kNow), IsOkAndHolds(kNow - absl::Hours(36)));
  EXPECT_THAT(ParseTimeText("now-2d3h4m5s", kNow),
              IsOkAndHolds(kNow - absl::Hours(51) - absl::Minutes(4) - absl::Seconds(5)));
}

TEST(TimeTextTest, AnythingElseIsRefusedSayingWhatIsAccepted) {
  for (const char* bad : {"now-5", "now5m", "now--5m", "now-m", "now-5w", "now-1h1d", "now-1h1h",
                          "tomorrow", "2026-11-21", "", "now-"}) {
    EXPECT_THAT(ParseTimeText(bad, kNow),
                StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("RFC 3339")))
        << bad;
  }
}

}  // namespace
}  // namespace granary::cli
