// The serving service in-process on port 0, with a real Redis and no registry: health,
// reflection, the Feast service name, health following Redis (not the registry), requests
// answered UNAVAILABLE until a catalog arrives, and the gateway's signature when it is
// required, under both names. (With a registry: tests/integration.)
#include "services/serving/serving_service.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "feast/serving/serving_service.grpc.pb.h"
#include "gmock/gmock.h"
#include "granary/serving/v1/serving.grpc.pb.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"

#include "libs/testing/grpc_probes.h"
#include "libs/testing/ports.h"
#include "libs/testing/redis_server.h"
#include "libs/testing/status_matchers.h"
#include "libs/testing/test_gateway.h"

namespace granary::serving {
namespace {

using ::granary::testing::CallEveryMethod;
using ::granary::testing::ListServices;
using ::granary::testing::RedisServer;
using ::granary::testing::StatusIs;
using ::granary::testing::TestGateway;
using ::granary::testing::WaitForHealth;
using ::grpc::health::v1::HealthCheckResponse;
using ::testing::_;
using ::testing::Contains;
using ::testing::Each;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;
using ::testing::SizeIs;

class ServingServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(); }

  // `server` is added to the server: mapping.
  void Start(const std::string& server = "") {
    ASSERT_OK_AND_ASSIGN(redis_, RedisServer::Start());
    ASSERT_OK_AND_ASSIGN(int nobody, ::granary::testing::PickFreePort());
    ASSERT_OK_AND_ASSIGN(
        runtime_,
        server::StartInProcess(
            Definition(),
            absl::StrCat("server: {dependency_check_interval: 50ms", server,
                         "}\nserving: {project: shop}\n", "registry: {address: '127.0.0.1:", nobody,
                         "'}\nredis: {address: ", redis_->address(), "}\n")));
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", runtime_->grpc_port()),
                                   grpc::InsecureChannelCredentials());
  }

  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<server::ServiceRuntime> runtime_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(ServingServiceTest, HealthAndReflectionAnswer) {
  ASSERT_OK(WaitForHealth(channel_, "", HealthCheckResponse::SERVING, absl::Seconds(10)));
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> services, ListServices(channel_));
  EXPECT_THAT(services, Contains("granary.serving.v1.ServingService"));
  EXPECT_THAT(services, Contains("feast.serving.ServingService"));
  EXPECT_THAT(services, Contains("grpc.health.v1.Health"));
}

TEST_F(ServingServiceTest, ServingInfoUnderBothNames) {
  v1::GetFeastServingInfoResponse resp;
  grpc::ClientContext a;
  ASSERT_TRUE(v1::ServingService::NewStub(channel_)
                  ->GetFeastServingInfo(&a, v1::GetFeastServingInfoRequest(), &resp)
                  .ok());
  EXPECT_THAT(resp.version(), HasSubstr("granary"));
  grpc::ClientContext b;
  v1::GetFeastServingInfoResponse feast_resp;
  ASSERT_TRUE(feast::serving::ServingService::NewStub(channel_)
                  ->GetFeastServingInfo(&b, v1::GetFeastServingInfoRequest(), &feast_resp)
                  .ok());
  EXPECT_EQ(feast_resp.version(), resp.version());
}

TEST_F(ServingServiceTest, WithoutACatalogRequestsAreUnavailableNotUnknown) {
  v1::GetOnlineFeaturesRequest req;
  req.mutable_features()->add_val("driver_stats:trips");
  (*req.mutable_entities())["driver_id"].add_val()->set_int64_val(1);
  grpc::ClientContext ctx;
  v1::GetOnlineFeaturesResponse resp;
  grpc::Status s = v1::ServingService::NewStub(channel_)->GetOnlineFeatures(&ctx, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("'shop'"));

  req.set_project("other");
  grpc::ClientContext ctx2;
  s = feast::serving::ServingService::NewStub(channel_)->GetOnlineFeatures(&ctx2, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(s.error_message(), HasSubstr("not served here"));
}

TEST_F(ServingServiceTest, BytesThatAreNotARequestAreInvalidArgument) {
  grpc::GenericStub stub(channel_);
  for (const std::string service : {v1::ServingService::service_full_name(),
                                    feast::serving::ServingService::service_full_name()}) {
    for (const char* method : {"GetOnlineFeatures", "GetFeastServingInfo"}) {
      grpc::ClientContext ctx;
      ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
      grpc::Slice garbage(std::string("\xff\xff\xff"));
      grpc::ByteBuffer request(&garbage, 1), response;
      grpc::CompletionQueue queue;
      auto call =
          stub.PrepareUnaryCall(&ctx, absl::StrCat("/", service, "/", method), request, &queue);
      call->StartCall();
      grpc::Status s;
      call->Finish(&response, &s, nullptr);
      void* tag;
      bool ok;
      ASSERT_TRUE(queue.Next(&tag, &ok) && ok);
      EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << service << "/" << method;
      EXPECT_THAT(s.error_message(), HasSubstr("request: not a ")) << service << "/" << method;
    }
  }
}

TEST(ServingConfigTest, TheDefaultProjectIsRequired) {
  absl::StatusOr<std::unique_ptr<server::ServiceRuntime>> rt =
      server::StartInProcess(Definition(), "serving: {projects: ['not a name']}\n");
  EXPECT_THAT(rt.status(), ::granary::testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                                        HasSubstr("serving.project")));
  EXPECT_THAT(rt.status().message(), HasSubstr("'not a name' is not a project name"));
}

TEST_F(ServingServiceTest, HealthFollowsRedis) {
  ASSERT_OK(WaitForHealth(channel_, "", HealthCheckResponse::SERVING, absl::Seconds(10)));
  ASSERT_OK(redis_->Stop());
  ASSERT_OK(WaitForHealth(channel_, "", HealthCheckResponse::NOT_SERVING, absl::Seconds(10)));
  ASSERT_OK(redis_->Restart());
  ASSERT_OK(WaitForHealth(channel_, "", HealthCheckResponse::SERVING, absl::Seconds(10)));
}

// With server.gateway_signature required: a model server that reached serving directly,
// under either name, reads nothing without the gateway's signature for the name it called.
class SignedServingTest : public ServingServiceTest {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(gateway_, TestGateway::Create());
    Start(absl::StrCat(", ", gateway_->RequiredConfig()));
  }

  std::optional<TestGateway> gateway_;
};

TEST_F(SignedServingTest, EveryMethodRefusesCallsTheGatewayDidNotSign) {
  for (const std::string service : {v1::ServingService::service_full_name(),
                                    feast::serving::ServingService::service_full_name()}) {
    for (const auto& [why, metadata] : gateway_->WrongSignatures()) {
      ASSERT_OK_AND_ASSIGN(auto statuses, CallEveryMethod(channel_, service, metadata));
      EXPECT_THAT(statuses, SizeIs(2));
      EXPECT_THAT(statuses, Each(Pair(_, StatusIs(absl::StatusCode::kUnauthenticated))))
          << service << ", " << why;
    }
  }
}

TEST_F(SignedServingTest, ASignatureHoldsForTheNameItWasSignedFor) {
  // Signed for the Granary name, replayed on Feast's: refused.
  grpc::ClientContext replayed;
  gateway_->Authorize(
      replayed, "model",
      absl::StrCat("/", v1::ServingService::service_full_name(), "/GetFeastServingInfo"));
  v1::GetFeastServingInfoResponse info;
  EXPECT_EQ(feast::serving::ServingService::NewStub(channel_)
                ->GetFeastServingInfo(&replayed, v1::GetFeastServingInfoRequest(), &info)
                .error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  // Each name with its own signature: served.
  for (const std::string service : {v1::ServingService::service_full_name(),
                                    feast::serving::ServingService::service_full_name()}) {
    ASSERT_OK_AND_ASSIGN(auto statuses,
                         CallEveryMethod(channel_, service, gateway_->SignedFor("model")));
    EXPECT_THAT(statuses, Each(Pair(_, Not(StatusIs(absl::StatusCode::kUnauthenticated)))))
        << service;
    EXPECT_OK(statuses[absl::StrCat("/", service, "/GetFeastServingInfo")]);
  }
  grpc::ClientContext ctx;
  gateway_->Authorize(
      ctx, "model",
      absl::StrCat("/", v1::ServingService::service_full_name(), "/GetFeastServingInfo"));
  ASSERT_TRUE(v1::ServingService::NewStub(channel_)
                  ->GetFeastServingInfo(&ctx, v1::GetFeastServingInfoRequest(), &info)
                  .ok());
  EXPECT_THAT(info.version(), HasSubstr("granary"));
}

}  // namespace
}  // namespace granary::serving
