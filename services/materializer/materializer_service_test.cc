// The materializer in-process on port 0 with real NATS, Redis and PostgreSQL: health,
// reflection, and health following each backend.
#include "services/materializer/materializer_service.h"

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"

#include "libs/testing/grpc_probes.h"
#include "libs/testing/nats_server.h"
#include "libs/testing/ports.h"
#include "libs/testing/postgres_server.h"
#include "libs/testing/redis_server.h"
#include "libs/testing/status_matchers.h"
#include "services/materializer/materializer_grpc.h"

namespace granary::materializer {
namespace {

using ::granary::testing::ListServices;
using ::granary::testing::NatsServer;
using ::granary::testing::PostgresServer;
using ::granary::testing::RedisServer;
using ::granary::testing::WaitForHealth;
using ::grpc::health::v1::HealthCheckResponse;
using ::testing::Contains;
namespace mv1 = ::granary::materialization::v1;

class MaterializerServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(pg_, PostgresServer::Start());
    ASSERT_OK(pg_->CreateDatabase("granary"));
    ASSERT_OK_AND_ASSIGN(nats_, NatsServer::Start());
    ASSERT_OK_AND_ASSIGN(redis_, RedisServer::Start());
    // A free port nothing listens on: no registry (the push writers are tested elsewhere).
    ASSERT_OK_AND_ASSIGN(std::vector<int> free, testing::PickFreePorts(1));
    ASSERT_OK_AND_ASSIGN(
        runtime_,
        server::StartInProcess(
            Definition(), absl::StrCat("server: {dependency_check_interval: 50ms}\n",
                                       "offline_store: {address: 127.0.0.1:", pg_->port(),
                                       ", user: postgres, database: granary, sslmode: disable}\n",
                                       "nats: {url: '", nats_->url(), "', reconnect_wait: 50ms}\n",
                                       "redis: {address: ", redis_->address(), "}\n",
                                       "registry: {address: 127.0.0.1:", free[0], "}\n")));
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", runtime_->grpc_port()),
                                   grpc::InsecureChannelCredentials());
  }

  std::unique_ptr<PostgresServer> pg_;
  std::unique_ptr<NatsServer> nats_;
  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<server::ServiceRuntime> runtime_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(MaterializerServiceTest, HealthAndReflectionAnswer) {
  ASSERT_OK(WaitForHealth(channel_, "", HealthCheckResponse::SERVING, absl::Seconds(10)));
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> services, ListServices(channel_));
  EXPECT_THAT(services, Contains("granary.materialization.v1.MaterializationService"));
}

TEST_F(MaterializerServiceTest, UnbuiltRpcsAreUnimplemented) {
  grpc::ClientContext ctx;
  mv1::Job job;
  EXPECT_EQ(mv1::MaterializationService::NewStub(channel_)
                ->Materialize(&ctx, mv1::MaterializeRequest(), &job)
                .error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
}

TEST_F(MaterializerServiceTest, HealthFollowsEachBackend) {
  ASSERT_OK(WaitForHealth(channel_, "", HealthCheckResponse::SERVING, absl::Seconds(10)));
  ASSERT_OK(redis_->Stop());
  ASSERT_OK(WaitForHealth(channel_, "", HealthCheckResponse::NOT_SERVING, absl::Seconds(10)));
  ASSERT_OK(redis_->Restart());
  ASSERT_OK(WaitForHealth(channel_, "", HealthCheckResponse::SERVING, absl::Seconds(10)));
  ASSERT_OK(pg_->Stop());
  ASSERT_OK(WaitForHealth(channel_, "", HealthCheckResponse::NOT_SERVING, absl::Seconds(10)));
  ASSERT_OK(pg_->Restart());
  ASSERT_OK(WaitForHealth(channel_, "", HealthCheckResponse::SERVING, absl::Seconds(10)));
}

}  // namespace
}  // namespace granary::materializer
