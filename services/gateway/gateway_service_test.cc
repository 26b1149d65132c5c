// The gateway in-process on port 0 in front of stand-in upstreams: health follows the registry
// and only the registry; reflection answers.
#include "services/gateway/gateway_service.h"

#include <atomic>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"

#include "libs/server/echo_service_for_test.h"
#include "libs/testing/grpc_probes.h"
#include "libs/testing/status_matchers.h"

namespace granary::gateway {
namespace {

using ::granary::testing::ListServices;
using ::granary::testing::WaitForHealth;
using ::grpc::health::v1::HealthCheckResponse;
using ::testing::Contains;

TEST(GatewayServiceTest, HealthFollowsTheRegistryOnly) {
  std::atomic<bool> registry_up{true};
  std::atomic<bool> materializer_up{false};
  ASSERT_OK_AND_ASSIGN(auto registry,
                       server::StartInProcess(server::EchoDefinition(&registry_up),
                                              "server: {dependency_check_interval: 50ms}\n"));
  ASSERT_OK_AND_ASSIGN(auto materializer,
                       server::StartInProcess(server::EchoDefinition(&materializer_up),
                                              "server: {dependency_check_interval: 50ms}\n"));
  ASSERT_OK_AND_ASSIGN(
      auto gateway,
      server::StartInProcess(
          Definition(), absl::StrCat("server: {dependency_check_interval: 50ms}\nupstreams:\n",
                                     "  registry: 127.0.0.1:", registry->grpc_port(), "\n",
                                     "  materializer: 127.0.0.1:", materializer->grpc_port(), "\n",
                                     // Nothing listens on port 1: these upstreams are down.
                                     "  serving: 127.0.0.1:1\n  ingestion: 127.0.0.1:1\n")));
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", gateway->grpc_port()),
                                     grpc::InsecureChannelCredentials());
  ASSERT_OK(WaitForHealth(channel, "", HealthCheckResponse::SERVING, absl::Seconds(10)));
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> services, ListServices(channel));
  EXPECT_THAT(services, Contains("grpc.health.v1.Health"));

  registry_up = false;
  ASSERT_OK(WaitForHealth(channel, "", HealthCheckResponse::NOT_SERVING, absl::Seconds(10)));
  registry_up = true;
  ASSERT_OK(WaitForHealth(channel, "", HealthCheckResponse::SERVING, absl::Seconds(10)));
}

}  // namespace
}  // namespace granary::gateway
