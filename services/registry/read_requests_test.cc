#include "services/registry/read_requests.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "libs/testing/status_matchers.h"

namespace granary::registry {
namespace {

using ::granary::testing::IsOkAndHolds;
using ::granary::testing::StatusIs;
using ::testing::HasSubstr;

TEST(ReadRequestsTest, RequiredNamesTheEmptyField) {
  EXPECT_OK(Required("driver_hourly_stats", "name"));
  EXPECT_THAT(Required("", "project"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("project: required")));
}

TEST(ReadRequestsTest, PageSizeDefaultsAndBounds) {
  EXPECT_THAT(PageSize(0), IsOkAndHolds(100));
  EXPECT_THAT(PageSize(1), IsOkAndHolds(1));
  EXPECT_THAT(PageSize(1000), IsOkAndHolds(1000));
  EXPECT_THAT(PageSize(1001), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_size")));
  EXPECT_THAT(PageSize(-1), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_size")));
}

TEST(ReadRequestsTest, TokensRoundTripAnyPosition) {
  const std::vector<std::string> positions = {"", "driver_hourly_stats", "a/b+c=d",
                                              std::string("\0\xff", 2)};
  for (const std::string& position : positions) {
    EXPECT_THAT(DecodeToken(EncodeToken(position)), IsOkAndHolds(position));
  }
}

TEST(ReadRequestsTest, ForeignTokensAreRefused) {
  EXPECT_THAT(DecodeToken("not a token!"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
}

}  // namespace
}  // namespace granary::registry
