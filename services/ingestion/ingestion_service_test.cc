// The ingestion service in-process on port 0 with a real NATS and no registry: health,
// reflection, health following NATS, pushes that cannot be checked refused clearly, and the
// gateway's signature when it is required.
// Pushes end to end are in tests/integration/ingestion_test.cc.
#include "services/ingestion/ingestion_service.h"

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"

#include "libs/base/grpc_status.h"
#include "libs/base/retry_after.h"
#include "libs/testing/eventually.h"
#include "libs/testing/grpc_probes.h"
#include "libs/testing/nats_server.h"
#include "libs/testing/ports.h"
#include "libs/testing/status_matchers.h"
#include "libs/testing/test_gateway.h"
#include "services/ingestion/ingestion_grpc.h"

namespace granary::ingestion {
namespace {

using ::granary::testing::CallEveryMethod;
using ::granary::testing::ListServices;
using ::granary::testing::NatsServer;
using ::granary::testing::StatusIs;
using ::granary::testing::TestGateway;
using ::granary::testing::WaitForHealth;
using ::grpc::health::v1::HealthCheckResponse;
using ::testing::_;
using ::testing::Contains;
using ::testing::Each;
using ::testing::Not;
using ::testing::Pair;
using ::testing::SizeIs;

// No registry listens on the port picked (free, and nobody is told of it): pushes find no
// catalog.
std::string Config(const std::string& nats_url, const std::string& ingestion = "",
                   const std::string& server = "") {
  absl::StatusOr<std::vector<int>> free = testing::PickFreePorts(1);
  EXPECT_TRUE(free.ok()) << free.status();
  return absl::StrCat("server: {dependency_check_interval: 50ms", server, "}\n",
                      "ingestion: {project: shop", ingestion,
                      "}\nregistry: {address: '127.0.0.1:", free.ok() ? (*free)[0] : 0,
                      "'}\nnats: {url: '", nats_url, "', reconnect_wait: 50ms}\n");
}

class IngestionServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(nats_, NatsServer::Start());
    ASSERT_OK_AND_ASSIGN(runtime_, server::StartInProcess(Definition(), Config(nats_->url())));
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

TEST_F(IngestionServiceTest, PushesThatCannotBeCheckedAreRefusedWithMeaningfulCodes) {
  auto stub = v1::IngestionService::NewStub(channel_);
  v1::PushRequest req;
  req.set_push_source_name("events_push");
  (*req.mutable_columns())["id"].add_val()->set_int64_val(1);
  v1::PushResponse resp;
  {
    grpc::ClientContext ctx;
    req.set_project("elsewhere");
    grpc::Status s = stub->Push(&ctx, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_THAT(s.error_message(), ::testing::HasSubstr("elsewhere"));
  }
  {
    grpc::ClientContext ctx;
    req.set_project("");
    // The catalog of "shop" cannot be loaded: retry later, nothing was stored.
    EXPECT_EQ(stub->Push(&ctx, req, &resp).error_code(), grpc::StatusCode::UNAVAILABLE);
  }
  {
    grpc::ClientContext ctx;
    req.set_batch_id("two\r\nlines");  // it travels as a message header
    grpc::Status s = stub->Push(&ctx, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), ::testing::HasSubstr("batch_id"));
    req.clear_batch_id();
  }
  {
    grpc::ClientContext ctx;
    req.set_push_source_name("");
    grpc::Status s = stub->Push(&ctx, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), ::testing::HasSubstr("push_source_name"));
  }
}

TEST_F(IngestionServiceTest, HealthFollowsNats) {
  ASSERT_OK(WaitForHealth(channel_, "", HealthCheckResponse::SERVING, absl::Seconds(10)));
  ASSERT_OK(nats_->Stop());
  ASSERT_OK(WaitForHealth(channel_, "", HealthCheckResponse::NOT_SERVING, absl::Seconds(10)));
  ASSERT_OK(nats_->Restart());
  ASSERT_OK(WaitForHealth(channel_, "", HealthCheckResponse::SERVING, absl::Seconds(10)));
}

// Opens a PushStream and sends a batch without an id: answered (the stream is being served)
// or not (the stream was refused, and Finish says why).
struct OpenStream {
  grpc::ClientContext ctx;
  std::unique_ptr<grpc::ClientReaderWriter<v1::PushStreamRequest, v1::PushStreamResponse>> rw;
  bool answered = false;

  explicit OpenStream(v1::IngestionService::Stub& stub) {
    rw = stub.PushStream(&ctx);
    v1::PushStreamRequest req;
    req.mutable_batch()->set_push_source_name("events_push");
    v1::PushStreamResponse resp;
    answered = rw->Write(req) && rw->Read(&resp) &&
               resp.error().code() == static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT);
  }
  grpc::Status Close() {
    rw->WritesDone();
    for (v1::PushStreamResponse resp; rw->Read(&resp);) {
    }
    return rw->Finish();
  }
};

TEST(IngestionStreamsTest, PastMaxStreamsANewStreamIsRefusedWithAHintUntilOneCloses) {
  ASSERT_OK_AND_ASSIGN(auto nats, NatsServer::Start());
  ASSERT_OK_AND_ASSIGN(
      auto runtime, server::StartInProcess(Definition(), Config(nats->url(), ", max_streams: 1")));
  auto stub = v1::IngestionService::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", runtime->grpc_port()), grpc::InsecureChannelCredentials()));
  OpenStream first(*stub);
  ASSERT_TRUE(first.answered);
  EXPECT_EQ(testing::ScrapeMetric(runtime->metrics_port(), "granary_ingestion_open_streams"), 1);
  OpenStream second(*stub);
  EXPECT_FALSE(second.answered);
  EXPECT_EQ(
      testing::ScrapeMetric(runtime->metrics_port(), "granary_ingestion_streams_refused_total"), 1);
  grpc::Status refused = second.Close();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(refused.error_message(), ::testing::HasSubstr("max_streams"));
  auto hint = second.ctx.GetServerTrailingMetadata().find("grpc-retry-pushback-ms");
  ASSERT_NE(hint, second.ctx.GetServerTrailingMetadata().end());
  EXPECT_EQ(std::string(hint->second.data(), hint->second.size()), "1000");
  // What a client makes of it through the one status conversion.
  EXPECT_EQ(base::RetryAfter(base::FromGrpcStatus(refused, second.ctx)), absl::Seconds(1));
  EXPECT_OK(base::FromGrpcStatus(first.Close()));
  // The first stream's slot is given back once the server is done with it (just after its
  // Finish reached this client): a new stream is served again.
  EXPECT_TRUE(testing::Eventually(
      [&] {
        OpenStream again(*stub);
        again.Close();
        return again.answered;
      },
      absl::Seconds(20)));
}

// With server.gateway_signature required: neither a push nor a stream from a producer that
// reached ingestion directly, without the gateway's signature, gets past the door.
TEST(IngestionSignatureTest, EveryMethodRefusesCallsTheGatewayDidNotSign) {
  ASSERT_OK_AND_ASSIGN(TestGateway gateway, TestGateway::Create());
  ASSERT_OK_AND_ASSIGN(auto nats, NatsServer::Start());
  ASSERT_OK_AND_ASSIGN(
      auto runtime,
      server::StartInProcess(Definition(), Config(nats->url(), ", max_streams: 1",
                                                  absl::StrCat(", ", gateway.RequiredConfig()))));
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", runtime->grpc_port()),
                                     grpc::InsecureChannelCredentials());
  const std::string service = v1::IngestionService::service_full_name();
  for (const auto& [why, metadata] : gateway.WrongSignatures()) {
    ASSERT_OK_AND_ASSIGN(auto statuses, CallEveryMethod(channel, service, metadata));
    EXPECT_THAT(statuses, SizeIs(2));
    EXPECT_THAT(statuses, Each(Pair(_, StatusIs(absl::StatusCode::kUnauthenticated)))) << why;
  }
  // A signed stream is read and answered, batch by batch; the refused ones took no slot among
  // max_streams (1).
  auto stub = v1::IngestionService::NewStub(channel);
  grpc::ClientContext ctx;
  gateway.Authorize(ctx, "producer", absl::StrCat("/", service, "/PushStream"));
  auto stream = stub->PushStream(&ctx);
  v1::PushStreamRequest batch;
  batch.mutable_batch()->set_push_source_name("events_push");
  v1::PushStreamResponse answer;
  ASSERT_TRUE(stream->Write(batch));
  ASSERT_TRUE(stream->Read(&answer));
  EXPECT_EQ(answer.error().code(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_THAT(answer.error().message(), ::testing::HasSubstr("batch_id"));
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());

  // Every method takes its own signature (a stream may find the slot still taken: refused for
  // that, not for its signature).
  ASSERT_OK_AND_ASSIGN(auto signed_calls,
                       CallEveryMethod(channel, service, gateway.SignedFor("producer")));
  EXPECT_THAT(signed_calls, Each(Pair(_, Not(StatusIs(absl::StatusCode::kUnauthenticated)))));

  // A signed push reaches the pusher, which looks for the project's catalog.
  v1::PushRequest push;
  push.set_project("elsewhere");
  push.set_push_source_name("events_push");
  (*push.mutable_columns())["id"].add_val()->set_int64_val(1);
  grpc::ClientContext unary;
  gateway.Authorize(unary, "producer", absl::StrCat("/", service, "/Push"));
  v1::PushResponse pushed;
  EXPECT_EQ(stub->Push(&unary, push, &pushed).error_code(), grpc::StatusCode::NOT_FOUND);
}

// Started while NATS is down: NOT_SERVING, then SERVING once NATS is up, without a restart.
TEST(IngestionStartupTest, StartsWhileNatsIsDownAndRecovers) {
  ASSERT_OK_AND_ASSIGN(auto nats, NatsServer::Start());
  ASSERT_OK(nats->Stop());
  ASSERT_OK_AND_ASSIGN(auto runtime, server::StartInProcess(Definition(), Config(nats->url())));
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", runtime->grpc_port()),
                                     grpc::InsecureChannelCredentials());
  ASSERT_OK_AND_ASSIGN(auto status, testing::CheckHealth(channel));
  EXPECT_EQ(status, HealthCheckResponse::NOT_SERVING);
  ASSERT_OK(nats->Restart());
  ASSERT_OK(WaitForHealth(channel, "", HealthCheckResponse::SERVING, absl::Seconds(20)));
}

}  // namespace
}  // namespace granary::ingestion
