#include "libs/rpc/health.h"

#include <atomic>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "libs/server/echo_service_fixture.h"
#include "libs/testing/ports.h"
#include "libs/testing/status_matchers.h"

namespace granary::rpc {
namespace {

using ::granary::testing::StatusIs;

TEST(HealthTest, ReportsServingAndNotServing) {
  std::atomic<bool> up{true};
  ASSERT_OK_AND_ASSIGN(auto rt, server::StartInProcess(server::EchoDefinition(&up), ""));
  auto channel = InsecureChannel(absl::StrCat("127.0.0.1:", rt->grpc_port()));
  ASSERT_OK_AND_ASSIGN(HealthState state, CheckHealth(channel, "", absl::Seconds(5)));
  EXPECT_EQ(state, HealthState::kServing);
  EXPECT_OK(RequireServing(channel, "probe", absl::Seconds(5)));
  ASSERT_OK_AND_ASSIGN(HealthState unknown, CheckHealth(channel, "no.Such", absl::Seconds(5)));
  EXPECT_EQ(unknown, HealthState::kServiceUnknown);
}

TEST(HealthTest, NotServingAtStartWhenADependencyIsDown) {
  std::atomic<bool> up{false};
  ASSERT_OK_AND_ASSIGN(auto rt, server::StartInProcess(server::EchoDefinition(&up), ""));
  auto channel = InsecureChannel(absl::StrCat("127.0.0.1:", rt->grpc_port()));
  ASSERT_OK_AND_ASSIGN(HealthState state, CheckHealth(channel, "", absl::Seconds(5)));
  EXPECT_EQ(state, HealthState::kNotServing);
  EXPECT_THAT(RequireServing(channel, "probe", absl::Seconds(5)),
              StatusIs(absl::StatusCode::kUnavailable, "probe is NOT_SERVING"));
}

TEST(HealthTest, NobodyListeningIsUnavailable) {
  ASSERT_OK_AND_ASSIGN(int port, testing::PickFreePort());  // free: nothing listens there
  auto channel = InsecureChannel(absl::StrCat("127.0.0.1:", port));
  EXPECT_THAT(CheckHealth(channel, "", absl::Milliseconds(500)),
              testing::StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace granary::rpc
