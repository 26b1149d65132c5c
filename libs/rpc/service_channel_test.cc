// ServiceChannel against a real server that requires the gateway's signature (the Echo
// service in-process, server.gateway_signature.required): every call is signed as the service
// for the method it travels under; no secret or another one is refused; a signature made for
// a user is kept; the signature expires soon.
#include "libs/rpc/service_channel.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "granary/testing/v1/echo.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"

#include "libs/config/secret.h"
#include "libs/rpc/health.h"
#include "libs/server/echo_service_fixture.h"
#include "libs/testing/status_matchers.h"
#include "libs/testing/test_gateway.h"
#include "libs/trace/test_receiver.h"

namespace granary::rpc {
namespace {

using ::granary::testing::v1::EchoRequest;
using ::granary::testing::v1::EchoResponse;
using ::granary::testing::v1::EchoService;
using ::testing::ElementsAre;

constexpr char kEchoPath[] = "/granary.testing.v1.EchoService/Echo";

class ServiceChannelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(gateway_, granary::testing::TestGateway::Create());
    ASSERT_OK_AND_ASSIGN(runtime_, server::StartInProcess(
                                       server::EchoDefinition(),
                                       absl::StrCat("server: {", gateway_->RequiredConfig(), "}")));
    address_ = absl::StrCat("127.0.0.1:", runtime_->grpc_port());
  }

  ServiceCaller Caller(const std::string& service) const {
    absl::StatusOr<config::Secret> secret = config::Secret::FromFile(gateway_->secret_file());
    EXPECT_OK(secret);
    return {.service = service, .secret = secret.ok() ? *secret : config::Secret()};
  }

  // One Echo call; its caller as the server named it.
  static grpc::Status Echo(const std::shared_ptr<grpc::Channel>& channel, std::string* caller,
                           grpc::ClientContext* context = nullptr) {
    grpc::ClientContext own;
    if (context == nullptr) context = &own;
    context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    EchoRequest request;
    request.set_text("hi");
    EchoResponse response;
    grpc::Status status = EchoService::NewStub(channel)->Echo(context, request, &response);
    *caller = response.caller();
    return status;
  }

  std::optional<granary::testing::TestGateway> gateway_;
  std::unique_ptr<server::ServiceRuntime> runtime_;
  std::string address_;
};

TEST_F(ServiceChannelTest, EveryCallIsSignedAsTheService) {
  std::shared_ptr<grpc::Channel> channel = ServiceChannel(address_, Caller("ingestion"));
  for (int i = 0; i < 3; ++i) {
    std::string caller;
    grpc::Status status = Echo(channel, &caller);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(caller, "service:ingestion");
  }
  // Health stays open, signed or not.
  EXPECT_OK(RequireServing(channel, "echo", absl::Seconds(10)));
}

TEST_F(ServiceChannelTest, WithoutTheSecretCallsAreRefused) {
  std::string caller;
  // No secret: a plain channel, unsigned calls.
  EXPECT_EQ(Echo(ServiceChannel(address_, {.service = "serving"}), &caller).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  // Another secret: signed, but not by anyone the server trusts.
  ServiceCaller forger{
      .service = "serving",
      .secret = config::Secret::FromValue("another-secret-of-at-least-32-bytes-0123456789")};
  grpc::Status status = Echo(ServiceChannel(address_, forger), &caller);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(status.error_message(), ::testing::HasSubstr("gateway signature"));
}

TEST_F(ServiceChannelTest, ASignatureMadeForAUserIsKept) {
  std::shared_ptr<grpc::Channel> channel = ServiceChannel(address_, Caller("gateway"));
  grpc::ClientContext context;
  gateway_->Authorize(context, "alice", kEchoPath);
  std::string caller;
  ASSERT_TRUE(Echo(channel, &caller, &context).ok());
  EXPECT_EQ(caller, "alice");
}

TEST_F(ServiceChannelTest, TheSignatureExpiresSoon) {
  // Signed by a clock behind the server's by more than the signature's life and the leeway.
  base::FakeClock behind(absl::Now() - kServiceSignatureTtl - absl::Seconds(30));
  ServiceCaller late = Caller("materializer");
  late.clock = &behind;
  std::shared_ptr<grpc::Channel> channel = ServiceChannel(address_, late);
  std::string caller;
  EXPECT_EQ(Echo(channel, &caller).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  // The same clock a little behind: within the signature's life.
  behind.Set(absl::Now() - kServiceSignatureTtl / 2);
  EXPECT_TRUE(Echo(channel, &caller).ok());
}

// A service's own call that no trace started is followed by the callee but not recorded; one
// made within a sampled trace is. With or without a signature.
TEST(ServiceChannelTraceTest, AnUntracedCallIsNotRecordedAndATracedOneIs) {
  trace::TestReceiver receiver;
  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<server::ServiceRuntime> runtime,
      server::StartInProcess(server::EchoDefinition(),
                             absl::StrCat("server: {tracing: {otlp_endpoint: '", receiver.address(),
                                          "', sample_ratio: 1.0}}")));
  auto channel =
      ServiceChannel(absl::StrCat("127.0.0.1:", runtime->grpc_port()), {.service = "serving"});
  constexpr char kSampled[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  for (const char* traceparent : {"", kSampled}) {
    grpc::ClientContext context;
    if (*traceparent != '\0') context.AddMetadata("traceparent", traceparent);
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    EchoRequest request;
    EchoResponse response;
    ASSERT_TRUE(EchoService::NewStub(channel)->Echo(&context, request, &response).ok());
  }
  // The stop exports what is queued: both calls' spans, had both been recorded.
  runtime->Shutdown();
  std::vector<trace::ReceivedSpan> spans = receiver.Spans();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].span.name(), kEchoPath);
  EXPECT_EQ(spans[0].span.parent_span_id(), std::string("\x00\xf0\x67\xaa\x0b\xa9\x02\xb7", 8));
}

TEST(ServiceIdentityTest, NamesTheServiceWithTheServiceRole) {
  auth::Identity who = ServiceIdentity("materializer");
  EXPECT_EQ(who.user, "service:materializer");
  EXPECT_THAT(who.roles, ElementsAre(kServiceRole));
  EXPECT_TRUE(who.groups.empty());
}

}  // namespace
}  // namespace granary::rpc
