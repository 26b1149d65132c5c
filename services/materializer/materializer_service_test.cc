// The materializer in-process on port 0 with real NATS, Redis and PostgreSQL: health,
// reflection, and health following each backend.
#include "services/materializer/materializer_service.h"

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "granary/materialization/v1/materialization.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "pqxx/pqxx"

#include "libs/testing/grpc_probes.h"
#include "libs/testing/nats_server.h"
#include "libs/testing/ports.h"
#include "libs/testing/postgres_server.h"
#include "libs/testing/redis_server.h"
#include "libs/testing/status_matchers.h"

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

TEST_F(MaterializerServiceTest, TheJobsSchemaIsMigratedWhenTheServiceIsBuilt) {
  // Before any job was asked for.
  pqxx::connection conn(pg_->ConnInfo("granary"));
  pqxx::nontransaction tx(conn);
  EXPECT_EQ(tx.exec("SELECT count(*) FROM jobs.jobs")[0][0].as<int>(), 0);
  EXPECT_EQ(tx.exec("SELECT max(version) FROM jobs.schema_migrations")[0][0].as<int>(), 1);
}

TEST_F(MaterializerServiceTest, RequestsWithoutAProjectOrJobAreRefusedNamingTheField) {
  auto stub = mv1::MaterializationService::NewStub(channel_);
  grpc::ClientContext ctx;
  mv1::Job job;
  grpc::Status status = stub->Materialize(&ctx, mv1::MaterializeRequest(), &job);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), ::testing::HasSubstr("project"));
  grpc::ClientContext get;
  status = stub->GetJob(&get, mv1::GetJobRequest(), &job);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), ::testing::HasSubstr("job_id"));
  grpc::ClientContext historical;
  auto reader = stub->GetHistoricalFeatures(&historical, mv1::GetHistoricalFeaturesRequest());
  mv1::GetHistoricalFeaturesResponse part;
  EXPECT_FALSE(reader->Read(&part));
  status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), ::testing::HasSubstr("project"));
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
