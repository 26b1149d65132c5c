// The registry in-process on port 0 with real PostgreSQL and NATS: health, reflection, and
// health following each backend.
#include "services/registry/registry_service.h"

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"

#include "libs/testing/grpc_probes.h"
#include "libs/testing/nats_server.h"
#include "libs/testing/postgres_server.h"
#include "libs/testing/status_matchers.h"
#include "services/registry/registry_grpc.h"

namespace granary::registry {
namespace {

using ::granary::testing::ListServices;
using ::granary::testing::NatsServer;
using ::granary::testing::PostgresServer;
using ::granary::testing::WaitForHealth;
using ::grpc::health::v1::HealthCheckResponse;
using ::testing::Contains;

class RegistryServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(pg_, PostgresServer::Start());
    ASSERT_OK(pg_->CreateDatabase("granary"));
    ASSERT_OK_AND_ASSIGN(nats_, NatsServer::Start());
    ASSERT_OK_AND_ASSIGN(
        runtime_, server::StartInProcess(
                      Definition(),
                      absl::StrCat("server: {dependency_check_interval: 50ms}\n",
                                   "postgres: {address: 127.0.0.1:", pg_->port(),
                                   ", user: postgres, database: granary, sslmode: disable}\n",
                                   "nats: {url: '", nats_->url(), "', reconnect_wait: 50ms}\n")));
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", runtime_->grpc_port()),
                                   grpc::InsecureChannelCredentials());
  }

  std::unique_ptr<PostgresServer> pg_;
  std::unique_ptr<NatsServer> nats_;
  std::unique_ptr<server::ServiceRuntime> runtime_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(RegistryServiceTest, HealthAndReflectionAnswer) {
  ASSERT_OK(WaitForHealth(channel_, "", HealthCheckResponse::SERVING, absl::Seconds(10)));
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> services, ListServices(channel_));
  EXPECT_THAT(services, Contains("granary.registry.v1.RegistryService"));
}

TEST_F(RegistryServiceTest, AnEmptyPlanIsInvalidNotUnimplemented) {
  grpc::ClientContext ctx;
  v1::PlanResponse resp;
  grpc::Status s = v1::RegistryService::NewStub(channel_)->Plan(&ctx, v1::PlanRequest(), &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), ::testing::HasSubstr("project.name: required"));
}

TEST_F(RegistryServiceTest, HealthFollowsPostgresButNotNats) {
  ASSERT_OK(WaitForHealth(channel_, "", HealthCheckResponse::SERVING, absl::Seconds(10)));
  ASSERT_OK(pg_->Stop());
  ASSERT_OK(WaitForHealth(channel_, "", HealthCheckResponse::NOT_SERVING, absl::Seconds(10)));
  ASSERT_OK(pg_->Restart());
  ASSERT_OK(WaitForHealth(channel_, "", HealthCheckResponse::SERVING, absl::Seconds(10)));
  // Applies work without NATS, so the registry stays in rotation; the outage shows in
  // granary_dependency_up{dependency="nats"}.
  ASSERT_OK(nats_->Stop());
  EXPECT_FALSE(
      WaitForHealth(channel_, "", HealthCheckResponse::NOT_SERVING, absl::Milliseconds(500)).ok());
}

// A registry started while PostgreSQL and NATS are both down neither fails nor crash-loops: it
// serves health (NOT_SERVING while PostgreSQL is down) and becomes SERVING once it is back.
TEST(RegistryStartupTest, StartsWhileBackendsAreDownAndRecovers) {
  ASSERT_OK_AND_ASSIGN(auto pg, PostgresServer::Start());
  ASSERT_OK(pg->CreateDatabase("granary"));
  ASSERT_OK_AND_ASSIGN(auto nats, NatsServer::Start());
  ASSERT_OK(pg->Stop());
  ASSERT_OK(nats->Stop());
  ASSERT_OK_AND_ASSIGN(
      auto runtime,
      server::StartInProcess(
          Definition(), absl::StrCat("server: {dependency_check_interval: 50ms}\n",
                                     "postgres: {address: 127.0.0.1:", pg->port(),
                                     ", user: postgres, database: granary, sslmode: disable}\n",
                                     "nats: {url: '", nats->url(), "', reconnect_wait: 50ms}\n")));
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", runtime->grpc_port()),
                                     grpc::InsecureChannelCredentials());
  ASSERT_OK_AND_ASSIGN(auto status, testing::CheckHealth(channel));
  EXPECT_EQ(status, HealthCheckResponse::NOT_SERVING);
  ASSERT_OK(pg->Restart());
  ASSERT_OK(nats->Restart());
  ASSERT_OK(WaitForHealth(channel, "", HealthCheckResponse::SERVING, absl::Seconds(20)));
}

}  // namespace
}  // namespace granary::registry
