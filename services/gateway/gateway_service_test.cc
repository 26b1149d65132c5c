// The gateway in-process on port 0 in front of stand-in upstreams: health follows the registry
// and only the registry, including across a real restart of the registry process.
#include "services/gateway/gateway_service.h"

#include <atomic>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"

#include "libs/server/echo_service_fixture.h"
#include "libs/testing/grpc_probes.h"
#include "libs/testing/ports.h"
#include "libs/testing/status_matchers.h"
#include "libs/testing/temp_dir.h"

namespace granary::gateway {
namespace {

using ::granary::testing::ListServices;
using ::granary::testing::WaitForHealth;
using ::grpc::health::v1::HealthCheckResponse;
using ::testing::Contains;

constexpr char kFastChecks[] = "server: {dependency_check_interval: 50ms}\n";

// The gateway's config: upstreams on these ports, a signature secret in a file, HTTP on a
// free port.
std::string GatewayConfig(const testing::TempDir& dir, int registry, int serving, int ingestion,
                          int materializer) {
  std::ofstream(dir.path() + "/gateway.secret")
      << "a-gateway-signature-secret-of-32-bytes-at-least";
  return absl::StrCat(kFastChecks, "registry: {address: 127.0.0.1:", registry,
                      "}\ngateway: {project: p, upstreams: {serving: 127.0.0.1:", serving,
                      ", ingestion: 127.0.0.1:", ingestion,
                      ", materializer: 127.0.0.1:", materializer, "}, signature: {secret: {file: '",
                      dir.path(),
                      "/gateway.secret'}}, http: {address: 127.0.0.1:0}, ui: {enabled: false}, "
                      "audit: {path: ''}}\n");
}

std::shared_ptr<grpc::Channel> ChannelTo(const server::ServiceRuntime& rt) {
  return grpc::CreateChannel(absl::StrCat("127.0.0.1:", rt.grpc_port()),
                             grpc::InsecureChannelCredentials());
}

TEST(GatewayServiceTest, HealthFollowsTheRegistryOnly) {
  std::atomic<bool> registry_up{true};
  std::atomic<bool> materializer_up{false};
  ASSERT_OK_AND_ASSIGN(auto registry,
                       server::StartInProcess(server::EchoDefinition(&registry_up), kFastChecks));
  ASSERT_OK_AND_ASSIGN(
      auto materializer,
      server::StartInProcess(server::EchoDefinition(&materializer_up), kFastChecks));
  // Free ports: nothing listens there, so serving and ingestion are down.
  ASSERT_OK_AND_ASSIGN(std::vector<int> nobody, testing::PickFreePorts(2));
  ASSERT_OK_AND_ASSIGN(testing::TempDir dir, testing::TempDir::Create("gateway"));
  ASSERT_OK_AND_ASSIGN(
      auto gateway,
      server::StartInProcess(Definition(), GatewayConfig(dir, registry->grpc_port(), nobody[0],
                                                         nobody[1], materializer->grpc_port())));
  auto channel = ChannelTo(*gateway);
  ASSERT_OK(WaitForHealth(channel, "", HealthCheckResponse::SERVING, absl::Seconds(10)));
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> services, ListServices(channel));
  EXPECT_THAT(services, Contains("grpc.health.v1.Health"));

  registry_up = false;
  ASSERT_OK(WaitForHealth(channel, "", HealthCheckResponse::NOT_SERVING, absl::Seconds(10)));
  registry_up = true;
  ASSERT_OK(WaitForHealth(channel, "", HealthCheckResponse::SERVING, absl::Seconds(10)));
}

TEST(GatewayServiceTest, SeesARestartedRegistryWithinSeconds) {
  ASSERT_OK_AND_ASSIGN(std::vector<int> ports, testing::PickFreePorts(4));
  std::string registry_config = absl::StrCat("server: {grpc_address: 127.0.0.1:", ports[0],
                                             ", dependency_check_interval: 50ms}\n");
  ASSERT_OK_AND_ASSIGN(auto registry,
                       server::StartInProcess(server::EchoDefinition(), registry_config));
  ASSERT_OK_AND_ASSIGN(testing::TempDir dir, testing::TempDir::Create("gateway"));
  ASSERT_OK_AND_ASSIGN(
      auto gateway, server::StartInProcess(
                        Definition(), GatewayConfig(dir, ports[0], ports[1], ports[2], ports[3])));
  auto channel = ChannelTo(*gateway);
  ASSERT_OK(WaitForHealth(channel, "", HealthCheckResponse::SERVING, absl::Seconds(10)));

  // The registry process goes away: connections drop, the gateway's channel backs off...
  registry.reset();
  ASSERT_OK(WaitForHealth(channel, "", HealthCheckResponse::NOT_SERVING, absl::Seconds(10)));
  // ...and a new registry on the same address is noticed within seconds, not minutes.
  ASSERT_OK_AND_ASSIGN(registry, server::StartInProcess(server::EchoDefinition(), registry_config));
  ASSERT_OK(WaitForHealth(channel, "", HealthCheckResponse::SERVING, absl::Seconds(10)));
}

}  // namespace
}  // namespace granary::gateway
