// The registry in-process on port 0 with real PostgreSQL and NATS: health, reflection,
// health following each backend, and the gateway's signature when it is required.
#include "services/registry/registry_service.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"

#include "libs/testing/grpc_probes.h"
#include "libs/testing/nats_server.h"
#include "libs/testing/postgres_server.h"
#include "libs/testing/status_matchers.h"
#include "libs/testing/test_gateway.h"
#include "services/registry/registry_grpc.h"
#include "services/registry/test_repo.h"

namespace granary::registry {
namespace {

using ::granary::testing::CallEveryMethod;
using ::granary::testing::ListServices;
using ::granary::testing::NatsServer;
using ::granary::testing::PostgresServer;
using ::granary::testing::StatusIs;
using ::granary::testing::TestGateway;
using ::granary::testing::WaitForHealth;
using ::grpc::health::v1::HealthCheckResponse;
using ::testing::_;
using ::testing::Contains;
using ::testing::Each;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::Pair;

std::string Config(const PostgresServer& pg, const NatsServer& nats,
                   const std::string& server = "") {
  return absl::StrCat("server: {dependency_check_interval: 50ms", server, "}\n",
                      "postgres: {address: 127.0.0.1:", pg.port(),
                      ", user: postgres, database: granary, sslmode: disable}\n", "nats: {url: '",
                      nats.url(), "', reconnect_wait: 50ms}\n");
}

class RegistryServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(pg_, PostgresServer::Start());
    ASSERT_OK(pg_->CreateDatabase("granary"));
    ASSERT_OK_AND_ASSIGN(nats_, NatsServer::Start());
    ASSERT_OK_AND_ASSIGN(runtime_, server::StartInProcess(Definition(), Config(*pg_, *nats_)));
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
  ASSERT_OK_AND_ASSIGN(auto runtime, server::StartInProcess(Definition(), Config(*pg, *nats)));
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", runtime->grpc_port()),
                                     grpc::InsecureChannelCredentials());
  ASSERT_OK_AND_ASSIGN(auto status, ::granary::testing::CheckHealth(channel));
  EXPECT_EQ(status, HealthCheckResponse::NOT_SERVING);
  ASSERT_OK(pg->Restart());
  ASSERT_OK(nats->Restart());
  ASSERT_OK(WaitForHealth(channel, "", HealthCheckResponse::SERVING, absl::Seconds(20)));
}

// With server.gateway_signature required: a registry reached directly, not through the
// gateway, does nothing for a caller who cannot show the gateway's signature.
class SignedRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(gateway_, TestGateway::Create());
    ASSERT_OK_AND_ASSIGN(pg_, PostgresServer::Start());
    ASSERT_OK(pg_->CreateDatabase("granary"));
    ASSERT_OK_AND_ASSIGN(nats_, NatsServer::Start());
    ASSERT_OK_AND_ASSIGN(
        runtime_,
        server::StartInProcess(
            Definition(), Config(*pg_, *nats_, absl::StrCat(", ", gateway_->RequiredConfig()))));
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", runtime_->grpc_port()),
                                   grpc::InsecureChannelCredentials());
  }

  static constexpr const char* kService = v1::RegistryService::service_full_name();
  std::optional<TestGateway> gateway_;
  std::unique_ptr<PostgresServer> pg_;
  std::unique_ptr<NatsServer> nats_;
  std::unique_ptr<server::ServiceRuntime> runtime_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(SignedRegistryTest, EveryMethodRefusesCallsTheGatewayDidNotSign) {
  for (const auto& [why, metadata] : gateway_->WrongSignatures()) {
    ASSERT_OK_AND_ASSIGN(auto statuses, CallEveryMethod(channel_, kService, metadata));
    EXPECT_THAT(statuses, Not(IsEmpty()));
    EXPECT_THAT(statuses, Each(Pair(_, StatusIs(absl::StatusCode::kUnauthenticated)))) << why;
  }
}

TEST_F(SignedRegistryTest, EveryMethodTakesItsOwnSignature) {
  ASSERT_OK_AND_ASSIGN(auto statuses,
                       CallEveryMethod(channel_, kService, gateway_->SignedFor("alice")));
  EXPECT_THAT(statuses, Each(Pair(_, Not(StatusIs(absl::StatusCode::kUnauthenticated)))));
}

TEST_F(SignedRegistryTest, AnApplyIsRecordedAsTheSignedUsers) {
  auto stub = v1::RegistryService::NewStub(channel_);
  v1::ApplyRequest apply;
  *apply.mutable_repo() = testing::DriverRepo("signed");
  v1::ApplyResponse applied;
  grpc::ClientContext ctx;
  gateway_->Authorize(ctx, "alice", absl::StrCat("/", kService, "/Apply"));
  ctx.AddMetadata("x-granary-caller", "mallory");  // unsigned: not believed
  grpc::Status status = stub->Apply(&ctx, apply, &applied);
  ASSERT_TRUE(status.ok()) << status.error_message();

  v1::ListHistoryRequest list;
  list.set_project("signed");
  v1::ListHistoryResponse history;
  grpc::ClientContext read;
  gateway_->Authorize(read, "bob", absl::StrCat("/", kService, "/ListHistory"));
  status = stub->ListHistory(&read, list, &history);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(history.entries_size(), 1);
  EXPECT_EQ(history.entries(0).caller(), "alice");
}

}  // namespace
}  // namespace granary::registry
