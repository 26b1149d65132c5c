#include "libs/trace/otlp_exporter.h"

#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "granary/testing/v1/echo.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "libs/testing/status_matchers.h"
#include "libs/trace/grpc_server_tracing.h"
#include "libs/trace/test_receiver.h"

namespace granary::trace {
namespace {

using ::granary::testing::IsOk;
using ::granary::testing::StatusIs;
using ::opentelemetry::proto::trace::v1::Span_SpanKind_SPAN_KIND_SERVER;
using ::opentelemetry::proto::trace::v1::Status;

constexpr char kParent[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

std::string Hex(const std::string& bytes) {
  std::string out;
  for (unsigned char c : bytes) absl::StrAppend(&out, absl::Hex(c, absl::kZeroPad2));
  return out;
}

const ::opentelemetry::proto::common::v1::AnyValue* Attribute(
    const ::opentelemetry::proto::trace::v1::Span& span, const std::string& key) {
  for (const auto& kv : span.attributes()) {
    if (kv.key() == key) return &kv.value();
  }
  return nullptr;
}

ResourceInfo Resource() { return {"granary-test", "0.1.0", "host-1"}; }

TEST(OtlpExporterTest, BuildsTheRequestWithTheSpecsFields) {
  SpanRecord record;
  record.context = *ParseTraceparent(kParent);
  record.parent_span_id =
      ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-1111111111111111-01")->span_id;
  record.parent_remote = true;
  record.name = "/granary.serving.v1.ServingService/GetOnlineFeatures";
  record.kind = SpanKind::kServer;
  record.start = absl::FromUnixNanos(1'700'000'000'000'000'001);
  record.end = absl::FromUnixNanos(1'700'000'000'000'500'001);
  record.attributes = {{"s", std::string("v")}, {"i", int64_t{7}}, {"b", true}, {"d", 0.5}};
  record.error = true;
  record.error_message = "UNAVAILABLE: redis";

  auto request = BuildExportRequest(Resource(), {record});
  ASSERT_EQ(request.resource_spans_size(), 1);
  const auto& rs = request.resource_spans(0);
  std::map<std::string, std::string> resource;
  for (const auto& kv : rs.resource().attributes()) resource[kv.key()] = kv.value().string_value();
  EXPECT_EQ(resource["service.name"], "granary-test");
  EXPECT_EQ(resource["service.version"], "0.1.0");
  EXPECT_EQ(resource["service.instance.id"], "host-1");
  ASSERT_EQ(rs.scope_spans_size(), 1);
  EXPECT_EQ(rs.scope_spans(0).scope().name(), "granary");
  ASSERT_EQ(rs.scope_spans(0).spans_size(), 1);
  const auto& span = rs.scope_spans(0).spans(0);
  EXPECT_EQ(Hex(span.trace_id()), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(Hex(span.span_id()), "00f067aa0ba902b7");
  EXPECT_EQ(Hex(span.parent_span_id()), "1111111111111111");
  EXPECT_EQ(span.flags(), 0x301u) << "sampled, parent known to be remote";
  EXPECT_EQ(span.name(), record.name);
  EXPECT_EQ(span.kind(), Span_SpanKind_SPAN_KIND_SERVER);
  EXPECT_EQ(span.start_time_unix_nano(), 1'700'000'000'000'000'001u);
  EXPECT_EQ(span.end_time_unix_nano(), 1'700'000'000'000'500'001u);
  EXPECT_EQ(Attribute(span, "s")->string_value(), "v");
  EXPECT_EQ(Attribute(span, "i")->int_value(), 7);
  EXPECT_TRUE(Attribute(span, "b")->bool_value());
  EXPECT_EQ(Attribute(span, "d")->double_value(), 0.5);
  EXPECT_EQ(span.status().code(), Status::STATUS_CODE_ERROR);
  EXPECT_EQ(span.status().message(), "UNAVAILABLE: redis");

  // A root span has no parent id, and a span that succeeded no status.
  record.parent_span_id.reset();
  record.error = false;
  auto root = BuildExportRequest(Resource(), {record}).resource_spans(0).scope_spans(0).spans(0);
  EXPECT_TRUE(root.parent_span_id().empty());
  EXPECT_EQ(root.flags(), 0x101u);
  EXPECT_FALSE(root.has_status());
}

TEST(OtlpExporterTest, TheTracersSpansReachAReceiver) {
  TestReceiver receiver;
  TracingConfig config;
  config.otlp_endpoint = receiver.address();
  config.export_interval = absl::Hours(1);
  Tracer tracer(config, OtlpGrpcExporter::ForConfig(config, Resource()), nullptr);
  std::string trace_id;
  {
    Span span(&tracer, "work", SpanKind::kInternal, std::nullopt);
    trace_id = span.context().TraceIdHex();
  }
  tracer.Flush();
  std::vector<ReceivedSpan> spans = receiver.Spans();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].service, "granary-test");
  EXPECT_EQ(spans[0].span.name(), "work");
  EXPECT_EQ(Hex(spans[0].span.trace_id()), trace_id);
}

SpanRecord ARecord() {
  SpanRecord record;
  record.context = *ParseTraceparent(kParent);
  record.name = "x";
  return record;
}

absl::Time Later() { return absl::Now() + absl::Seconds(30); }

TEST(OtlpExporterTest, AReceiverThatRefusesIsAnError) {
  TestReceiver receiver;
  receiver.Refuse(true);
  TracingConfig config;
  config.otlp_endpoint = receiver.address();
  auto exporter = OtlpGrpcExporter::ForConfig(config, Resource());
  EXPECT_THAT(exporter->Export({ARecord()}, Later()), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(receiver.calls(), 1);
}

TEST(OtlpExporterTest, APartialSuccessSaysHowManyWereRejected) {
  TestReceiver receiver;
  receiver.RejectEach(2);
  TracingConfig config;
  config.otlp_endpoint = receiver.address();
  auto exporter = OtlpGrpcExporter::ForConfig(config, Resource());
  absl::StatusOr<int64_t> rejected = exporter->Export({ARecord(), ARecord(), ARecord()}, Later());
  ASSERT_TRUE(IsOk(rejected));
  EXPECT_EQ(*rejected, 2);
}

TEST(OtlpExporterTest, AReceiverThatNeverAnswersIsGivenUpAtTheDeadline) {
  // A port that takes connections (the kernel completes the handshake) and never reads them:
  // without a deadline the call would wait for ever.
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(listen(fd, 16), 0);
  socklen_t size = sizeof(address);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size), 0);
  TracingConfig config;
  config.otlp_endpoint = absl::StrCat("127.0.0.1:", ntohs(address.sin_port));
  config.export_timeout = absl::Hours(1);
  auto exporter = OtlpGrpcExporter::ForConfig(config, Resource());
  // The deadline given wins over the (hour-long) timeout.
  const absl::Time start = absl::Now();
  absl::StatusOr<int64_t> result =
      exporter->Export({ARecord()}, absl::Now() + absl::Milliseconds(200));
  const absl::Duration took = absl::Now() - start;
  close(fd);
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kDeadlineExceeded));
  // Long before the hour the timeout alone would have allowed.
  EXPECT_LT(took, absl::Minutes(10));
}

// The server interceptor, on a real server: answers with the traceparent its handler saw.
class EchoTraceparent final : public granary::testing::v1::EchoService::Service {
 public:
  grpc::Status Echo(grpc::ServerContext* context, const granary::testing::v1::EchoRequest* request,
                    granary::testing::v1::EchoResponse* response) override {
    response->set_text(std::string(TraceparentOf(*context)));
    if (request->fail_code() != 0) {
      return grpc::Status(static_cast<grpc::StatusCode>(request->fail_code()), "failed here");
    }
    return grpc::Status::OK;
  }
};

class ServerTracingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TracingConfig config;
    config.otlp_endpoint = receiver_.address();
    config.export_interval = absl::Hours(1);
    tracer_ =
        std::make_unique<Tracer>(config, OtlpGrpcExporter::ForConfig(config, Resource()), nullptr);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service_);
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
    creators.push_back(ServerTracing(tracer_.get(), [](absl::string_view path) {
      return path == "/granary.testing.v1.EchoService/Echo";
    }));
    builder.experimental().SetInterceptorCreators(std::move(creators));
    server_ = builder.BuildAndStart();
    channel_ =
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
    stub_ = granary::testing::v1::EchoService::NewStub(channel_);
  }
  void TearDown() override { server_->Shutdown(); }

  // The call's answer: the traceparent the handler saw.
  std::string Call(const std::string& traceparent, int fail_code = 0) {
    grpc::ClientContext context;
    if (!traceparent.empty()) context.AddMetadata("traceparent", traceparent);
    granary::testing::v1::EchoRequest request;
    request.set_fail_code(fail_code);
    granary::testing::v1::EchoResponse response;
    grpc::Status status = stub_->Echo(&context, request, &response);
    EXPECT_EQ(status.error_code(), fail_code);
    return response.text();
  }

  std::vector<ReceivedSpan> Flushed() {
    tracer_->Flush();
    return receiver_.Spans();
  }

  TestReceiver receiver_;
  std::unique_ptr<Tracer> tracer_;
  EchoTraceparent service_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<granary::testing::v1::EchoService::Stub> stub_;
};

TEST_F(ServerTracingTest, TheHandlerSeesTheServersSpanAsTheParentOfWhatItDoes) {
  std::string seen = Call(kParent);
  std::optional<TraceContext> handler = ParseTraceparent(seen);
  ASSERT_TRUE(handler.has_value()) << seen;
  EXPECT_EQ(handler->TraceIdHex(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_NE(handler->SpanIdHex(), "00f067aa0ba902b7");
  EXPECT_TRUE(handler->sampled);

  std::vector<ReceivedSpan> spans = Flushed();
  ASSERT_EQ(spans.size(), 1u);
  const auto& span = spans[0].span;
  EXPECT_EQ(span.name(), "/granary.testing.v1.EchoService/Echo");
  EXPECT_EQ(span.kind(), Span_SpanKind_SPAN_KIND_SERVER);
  EXPECT_EQ(Hex(span.trace_id()), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(Hex(span.parent_span_id()), "00f067aa0ba902b7");
  EXPECT_EQ(Hex(span.span_id()), handler->SpanIdHex());
  EXPECT_EQ(Attribute(span, "rpc.service")->string_value(), "granary.testing.v1.EchoService");
  EXPECT_EQ(Attribute(span, "rpc.method")->string_value(), "Echo");
  EXPECT_EQ(Attribute(span, "rpc.grpc.status_code")->int_value(), 0);
  EXPECT_FALSE(span.has_status());
}

TEST_F(ServerTracingTest, ACallWithoutAValidTraceparentStartsATrace) {
  for (const std::string& sent : {std::string(), std::string("00-garbage")}) {
    std::optional<TraceContext> handler = ParseTraceparent(Call(sent));
    ASSERT_TRUE(handler.has_value()) << "sent: " << sent;
    EXPECT_NE(handler->TraceIdHex(), "4bf92f3577b34da6a3ce929d0e0e4736");
  }
  std::vector<ReceivedSpan> spans = Flushed();
  ASSERT_EQ(spans.size(), 2u);
  for (const auto& s : spans) EXPECT_TRUE(s.span.parent_span_id().empty());
  EXPECT_NE(spans[0].span.trace_id(), spans[1].span.trace_id());
}

TEST_F(ServerTracingTest, AServerErrorMarksTheSpanAndACallersErrorDoesNot) {
  Call(kParent, static_cast<int>(grpc::StatusCode::UNAVAILABLE));
  Call(kParent, static_cast<int>(grpc::StatusCode::NOT_FOUND));
  std::vector<ReceivedSpan> spans = Flushed();
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0].span.status().code(), Status::STATUS_CODE_ERROR);
  EXPECT_EQ(spans[0].span.status().message(), "UNAVAILABLE: failed here");
  EXPECT_EQ(Attribute(spans[1].span, "rpc.grpc.status_code")->int_value(), 5);
  EXPECT_FALSE(spans[1].span.has_status());
}

TEST_F(ServerTracingTest, AMethodTheServerDoesNotHaveDoesNotNameASpan) {
  grpc::GenericStub generic(channel_);
  grpc::ClientContext context;
  context.AddMetadata("traceparent", kParent);
  grpc::ByteBuffer request, response;
  grpc::CompletionQueue queue;
  auto call = generic.PrepareUnaryCall(&context, "/made.Up/Name", request, &queue);
  call->StartCall();
  grpc::Status status;
  call->Finish(&response, &status, reinterpret_cast<void*>(1));
  void* tag;
  bool ok;
  ASSERT_TRUE(queue.Next(&tag, &ok));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  std::vector<ReceivedSpan> spans = Flushed();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].span.name(), "unknown method");
  EXPECT_EQ(Attribute(spans[0].span, "rpc.method"), nullptr);
  queue.Shutdown();
  while (queue.Next(&tag, &ok)) {
  }
}

TEST_F(ServerTracingTest, AnUnsampledCallerIsFollowedAndNotRecorded) {
  std::string seen = Call("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  std::optional<TraceContext> handler = ParseTraceparent(seen);
  ASSERT_TRUE(handler.has_value());
  EXPECT_FALSE(handler->sampled);
  EXPECT_EQ(handler->TraceIdHex(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_TRUE(Flushed().empty());
}

}  // namespace
}  // namespace granary::trace
