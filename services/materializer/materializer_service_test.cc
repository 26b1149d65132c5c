// The materializer in-process on port 0 with real NATS, Redis and PostgreSQL: health,
// reflection, health following each backend, and the gateway's signature when it is required.
#include "services/materializer/materializer_service.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "granary/deadletter/v1/deadletter.grpc.pb.h"
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
#include "libs/testing/test_gateway.h"

namespace granary::materializer {
namespace {

using ::granary::testing::CallEveryMethod;
using ::granary::testing::ListServices;
using ::granary::testing::NatsServer;
using ::granary::testing::PostgresServer;
using ::granary::testing::RedisServer;
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
namespace mv1 = ::granary::materialization::v1;

class MaterializerServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(); }

  // `server` is added to the server: mapping.
  void Start(const std::string& server = "") {
    ASSERT_OK_AND_ASSIGN(pg_, PostgresServer::Start());
    ASSERT_OK(pg_->CreateDatabase("granary"));
    ASSERT_OK_AND_ASSIGN(nats_, NatsServer::Start());
    ASSERT_OK_AND_ASSIGN(redis_, RedisServer::Start());
    // A free port nothing listens on: no registry (the push writers are tested elsewhere).
    ASSERT_OK_AND_ASSIGN(std::vector<int> free, testing::PickFreePorts(1));
    ASSERT_OK_AND_ASSIGN(
        runtime_,
        server::StartInProcess(
            Definition(), absl::StrCat("server: {dependency_check_interval: 50ms", server, "}\n",
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

// With server.gateway_signature required: no job, retrieval or dead letter for a caller who
// reached the materializer directly, without the gateway's signature.
class SignedMaterializerTest : public MaterializerServiceTest {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(gateway_, TestGateway::Create());
    Start(absl::StrCat(", ", gateway_->RequiredConfig()));
  }

  std::optional<TestGateway> gateway_;
};

TEST_F(SignedMaterializerTest, EveryMethodRefusesCallsTheGatewayDidNotSign) {
  for (const std::string service : {mv1::MaterializationService::service_full_name(),
                                    deadletter::v1::DeadLetterService::service_full_name()}) {
    for (const auto& [why, metadata] : gateway_->WrongSignatures()) {
      ASSERT_OK_AND_ASSIGN(auto statuses, CallEveryMethod(channel_, service, metadata));
      EXPECT_THAT(statuses, Not(IsEmpty()));
      EXPECT_THAT(statuses, Each(Pair(_, StatusIs(absl::StatusCode::kUnauthenticated))))
          << service << ", " << why;
    }
  }
}

TEST_F(SignedMaterializerTest, EveryMethodTakesItsOwnSignature) {
  for (const std::string service : {mv1::MaterializationService::service_full_name(),
                                    deadletter::v1::DeadLetterService::service_full_name()}) {
    ASSERT_OK_AND_ASSIGN(auto statuses,
                         CallEveryMethod(channel_, service, gateway_->SignedFor("alice")));
    EXPECT_THAT(statuses, Each(Pair(_, Not(StatusIs(absl::StatusCode::kUnauthenticated)))))
        << service;
  }
}

TEST_F(SignedMaterializerTest, ASignedCallIsServed) {
  grpc::ClientContext ctx;
  gateway_->Authorize(
      ctx, "alice",
      absl::StrCat("/", mv1::MaterializationService::service_full_name(), "/ListJobs"));
  mv1::ListJobsResponse jobs;
  grpc::Status status =
      mv1::MaterializationService::NewStub(channel_)->ListJobs(&ctx, mv1::ListJobsRequest(), &jobs);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(jobs.jobs_size(), 0);
}

}  // namespace
}  // namespace granary::materializer
