#include "libs/base/retry_after.h"

#include "gtest/gtest.h"

namespace granary::base {
namespace {

TEST(RetryAfterTest, TheHintTravelsWithTheStatusAndItsCopies) {
  absl::Status full =
      WithRetryAfter(absl::ResourceExhaustedError("full"), absl::Milliseconds(250));
  absl::Status copy = full;
  EXPECT_EQ(RetryAfter(copy), absl::Milliseconds(250));
  EXPECT_EQ(copy.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(copy.message(), "full");
  EXPECT_EQ(RetryAfter(absl::UnavailableError("no hint")), std::nullopt);
  // OK carries nothing.
  EXPECT_EQ(RetryAfter(WithRetryAfter(absl::OkStatus(), absl::Seconds(1))), std::nullopt);
}

}  // namespace
}  // namespace granary::base
