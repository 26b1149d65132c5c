// The ingestion service in-process on port 0 with a real NATS: health, reflection, and health
// following NATS.
#include "services/ingestion/ingestion_service.h"

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"

#include "libs/testing/grpc_probes.h"
#include "libs/testing/nats_server.h"
#include "libs/testing/status_matchers.h"
#include "services/ingestion/ingestion_grpc.h"

namespace granary::ingestion {
namespace {

using ::granary::testing::ListServices;
using ::granary::testing::NatsServer;
using ::granary::testing::WaitForHealth;
using ::grpc::health::v1::HealthCheckResponse;
using ::testing::Contains;

class IngestionServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(nats_, NatsServer::Start());
    ASSERT_OK_AND_ASSIGN(
        runtime_, server::StartInProcess(
                      Definition(),
                      absl::StrCat("server: {dependency_check_interval: 50ms}\n", "nats: {url: '",
                                   nats_->url(), "', reconnect_wait: 50ms}\n")));
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", runtime_->grpc_port()),
                                   grpc::InsecureChannelCredentials());
  }

  std::unique_ptr<NatsServer> nats_;
  std::unique_ptr<server::ServiceRuntime> runtime_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(IngestionServiceTest, HealthAndReflectionAnswer) {
  ASSERT_OK(WaitForHealth(channel_, "", HealthCheckResponse::SERVING, absl::Seconds(10)));
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> services, ListServices(channel_));
  EXPECT_THAT(services, Contains("granary.ingestion.v1.IngestionService"));
}

TEST_F(IngestionServiceTest, UnbuiltRpcsAreUnimplemented) {
  grpc::ClientContext ctx;
  v1::PushResponse resp;
  EXPECT_EQ(
      v1::IngestionService::NewStub(channel_)->Push(&ctx, v1::PushRequest(), &resp).error_code(),
      grpc::StatusCode::UNIMPLEMENTED);
}

TEST_F(IngestionServiceTest, HealthFollowsNats) {
  ASSERT_OK(WaitForHealth(channel_, "", HealthCheckResponse::SERVING, absl::Seconds(10)));
  ASSERT_OK(nats_->Stop());
  ASSERT_OK(WaitForHealth(channel_, "", HealthCheckResponse::NOT_SERVING, absl::Seconds(10)));
  ASSERT_OK(nats_->Restart());
  ASSERT_OK(WaitForHealth(channel_, "", HealthCheckResponse::SERVING, absl::Seconds(10)));
}

// Started while NATS is down: NOT_SERVING, then SERVING once NATS is up, without a restart.
TEST(IngestionStartupTest, StartsWhileNatsIsDownAndRecovers) {
  ASSERT_OK_AND_ASSIGN(auto nats, NatsServer::Start());
  ASSERT_OK(nats->Stop());
  ASSERT_OK_AND_ASSIGN(
      auto runtime,
      server::StartInProcess(
          Definition(), absl::StrCat("server: {dependency_check_interval: 50ms}\n", "nats: {url: '",
                                     nats->url(), "', reconnect_wait: 50ms}\n")));
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", runtime->grpc_port()),
                                     grpc::InsecureChannelCredentials());
  ASSERT_OK_AND_ASSIGN(auto status, testing::CheckHealth(channel));
  EXPECT_EQ(status, HealthCheckResponse::NOT_SERVING);
  ASSERT_OK(nats->Restart());
  ASSERT_OK(WaitForHealth(channel, "", HealthCheckResponse::SERVING, absl::Seconds(20)));
}

}  // namespace
}  // namespace granary::ingestion
