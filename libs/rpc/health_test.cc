#include "libs/rpc/health.h"

#include <atomic>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "libs/server/run_service.h"
#include "libs/testing/status_matchers.h"

namespace granary::rpc {
namespace {

using ::granary::testing::StatusIs;

struct Empty {};

// A service whose one dependency follows `up`.
server::ServiceDefinition<Empty> Definition(std::atomic<bool>* up) {
  return {.name = "probe",
          .defaults = {},
          .read_config = [](config::Reader&) { return Empty{}; },
          .build =
              [up](const Empty&, server::ServiceHost& host) {
                host.AddDependency("flag", [up] {
                  return up->load() ? absl::OkStatus() : absl::UnavailableError("down");
                });
                return absl::OkStatus();
              }};
}

TEST(HealthTest, ReportsServingAndNotServing) {
  std::atomic<bool> up{true};
  ASSERT_OK_AND_ASSIGN(auto rt, server::StartInProcess(Definition(&up), ""));
  auto channel = InsecureChannel(absl::StrCat("127.0.0.1:", rt->grpc_port()));
  ASSERT_OK_AND_ASSIGN(HealthState state, CheckHealth(channel, "", absl::Seconds(5)));
  EXPECT_EQ(state, HealthState::kServing);
  EXPECT_OK(RequireServing(channel, "probe", absl::Seconds(5)));
  ASSERT_OK_AND_ASSIGN(HealthState unknown, CheckHealth(channel, "no.Such", absl::Seconds(5)));
  EXPECT_EQ(unknown, HealthState::kServiceUnknown);
}

TEST(HealthTest, NotServingAtStartWhenADependencyIsDown) {
  std::atomic<bool> up{false};
  ASSERT_OK_AND_ASSIGN(auto rt, server::StartInProcess(Definition(&up), ""));
  auto channel = InsecureChannel(absl::StrCat("127.0.0.1:", rt->grpc_port()));
  ASSERT_OK_AND_ASSIGN(HealthState state, CheckHealth(channel, "", absl::Seconds(5)));
  EXPECT_EQ(state, HealthState::kNotServing);
  EXPECT_THAT(RequireServing(channel, "probe", absl::Seconds(5)),
              StatusIs(absl::StatusCode::kUnavailable, "probe is NOT_SERVING"));
}

TEST(HealthTest, NobodyListeningIsUnavailable) {
  auto channel = InsecureChannel("127.0.0.1:1");
  EXPECT_THAT(CheckHealth(channel, "", absl::Milliseconds(500)),
              testing::StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace granary::rpc
