#include "libs/server/service_runtime.h"

#include <atomic>
#include <cstdio>
#include <fstream>
#include <future>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "granary/testing/v1/echo.grpc.pb.h"
#include "grpcpp/alarm.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/impl/codegen/client_unary_call.h"
#include "grpcpp/impl/codegen/rpc_method.h"
#include "gtest/gtest.h"
#include "prometheus/gauge.h"

#include "libs/config/secret.h"
#include "libs/rpc/service_channel.h"
#include "libs/server/echo_service_fixture.h"
#include "libs/server/queue_event.h"
#include "libs/server/run_service.h"
#include "libs/testing/grpc_probes.h"
#include "libs/testing/status_matchers.h"
#include "libs/testing/test_gateway.h"

namespace granary::server {
namespace {

using ::granary::testing::CallEveryMethod;
using ::granary::testing::CheckHealth;
using ::granary::testing::HttpGet;
using ::granary::testing::ListServices;
using ::granary::testing::StatusIs;
using ::granary::testing::TestGateway;
using ::granary::testing::WaitForHealth;
using ::granary::testing::v1::EchoRequest;
using ::granary::testing::v1::EchoResponse;
using ::granary::testing::v1::EchoService;
using ::grpc::health::v1::HealthCheckResponse;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

std::shared_ptr<grpc::Channel> ChannelTo(const ServiceRuntime& rt) {
  return grpc::CreateChannel(absl::StrCat("127.0.0.1:", rt.grpc_port()),
                             grpc::InsecureChannelCredentials());
}

grpc::Status CallEcho(const std::shared_ptr<grpc::Channel>& channel, const EchoRequest& req,
                      EchoResponse* resp) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  return EchoService::NewStub(channel)->Echo(&ctx, req, resp);
}

std::string HealthyFile() {
  return absl::StrCat(std::getenv("TEST_TMPDIR"), "/healthy-",
                      ::testing::UnitTest::GetInstance()->current_test_info()->name());
}

TEST(ServiceRuntimeTest, ServesHealthAndReflectionOnAPickedPort) {
  ASSERT_OK_AND_ASSIGN(auto rt, StartInProcess(EchoDefinition(), ""));
  EXPECT_GT(rt->grpc_port(), 0);
  EXPECT_GT(rt->metrics_port(), 0);
  auto channel = ChannelTo(*rt);
  ASSERT_OK_AND_ASSIGN(auto status, CheckHealth(channel));
  EXPECT_EQ(status, HealthCheckResponse::SERVING);
  ASSERT_OK_AND_ASSIGN(auto per_service, CheckHealth(channel, EchoService::service_full_name()));
  EXPECT_EQ(per_service, HealthCheckResponse::SERVING);
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> services, ListServices(channel));
  EXPECT_THAT(services, Contains("granary.testing.v1.EchoService"));
  EXPECT_THAT(services, Contains("grpc.health.v1.Health"));
  EXPECT_THAT(services, Contains("grpc.reflection.v1alpha.ServerReflection"));
}

TEST(ServiceRuntimeTest, HealthFollowsDependencies) {
  std::string file = HealthyFile();
  std::remove(file.c_str());
  ASSERT_OK_AND_ASSIGN(
      auto rt, StartInProcess(EchoDefinition(),
                              absl::StrCat("server: {dependency_check_interval: 50ms}\necho: "
                                           "{healthy_file: ",
                                           file, "}\n")));
  auto channel = ChannelTo(*rt);
  ASSERT_OK_AND_ASSIGN(auto status, CheckHealth(channel));
  EXPECT_EQ(status, HealthCheckResponse::NOT_SERVING);
  EXPECT_FALSE(rt->serving());

  std::ofstream(file) << "ok";
  ASSERT_OK(WaitForHealth(channel, "", HealthCheckResponse::SERVING, absl::Seconds(10)));
  EXPECT_TRUE(rt->serving());

  std::remove(file.c_str());
  ASSERT_OK(WaitForHealth(channel, "", HealthCheckResponse::NOT_SERVING, absl::Seconds(10)));
  ASSERT_OK(WaitForHealth(channel, EchoService::service_full_name(),
                          HealthCheckResponse::NOT_SERVING, absl::Seconds(10)));
}

TEST(ServiceRuntimeTest, MetricsCountCallsByCodeWithLatencyHistograms) {
  ASSERT_OK_AND_ASSIGN(auto rt, StartInProcess(EchoDefinition(), ""));
  auto channel = ChannelTo(*rt);
  EchoRequest ok;
  ok.set_text("hi");
  EchoResponse resp;
  ASSERT_TRUE(CallEcho(channel, ok, &resp).ok());
  ASSERT_TRUE(CallEcho(channel, ok, &resp).ok());
  EchoRequest bad;
  bad.set_fail_code(static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_EQ(CallEcho(channel, bad, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  ASSERT_OK_AND_ASSIGN(std::string text, HttpGet("127.0.0.1", rt->metrics_port(), "/metrics"));
  EXPECT_THAT(text, HasSubstr("grpc_server_handled_total{grpc_code=\"OK\",grpc_method=\"Echo\","
                              "grpc_service=\"granary.testing.v1.EchoService\"} 2"));
  EXPECT_THAT(text, HasSubstr("grpc_server_handled_total{grpc_code=\"INVALID_ARGUMENT\","
                              "grpc_method=\"Echo\",grpc_service=\"granary.testing.v1."
                              "EchoService\"} 1"));
  EXPECT_THAT(text, HasSubstr("grpc_server_handling_seconds_count{grpc_method=\"Echo\","
                              "grpc_service=\"granary.testing.v1.EchoService\"} 3"));
  EXPECT_THAT(text, HasSubstr("grpc_server_handling_seconds_bucket{grpc_method=\"Echo\""));
  EXPECT_THAT(text, HasSubstr("granary_build_info{service=\"echo\""));
  EXPECT_THAT(text, HasSubstr("granary_serving 1"));
}

// Records, when run on a queue thread, whether the thread had waited for it.
class IdleProbe final : public QueueEvent {
 public:
  explicit IdleProbe(std::function<void()> first = nullptr) : first_(std::move(first)) {}
  void Run(bool) override {
    const bool idle = QueueWasIdle();
    if (first_) first_();
    seen_.set_value(idle);
  }
  bool Seen() { return seen_.get_future().get(); }

 private:
  std::function<void()> first_;
  std::promise<bool> seen_;
};

TEST(ServiceRuntimeTest, QueueThreadsSayWhetherTheyWaitedForTheEventTheyRun) {
  ServerConfig config;
  config.grpc_address = "127.0.0.1:0";
  config.metrics_address = "127.0.0.1:0";
  std::promise<grpc::ServerCompletionQueue*> queue_promise;
  ASSERT_OK_AND_ASSIGN(
      auto rt, ServiceRuntime::Start("queued", config, [&](ServiceHost& host) {
        host.UseQueues(1, [&](const auto& queues) { queue_promise.set_value(queues.front()); });
        return absl::OkStatus();
      }));
  grpc::ServerCompletionQueue* queue = queue_promise.get_future().get();
  EXPECT_FALSE(QueueWasIdle());  // not a queue thread

  // Two events queued (an alarm cancelled posts its tag at once) while the thread runs a
  // third: each found the queue non-empty, so neither was waited for.
  IdleProbe second, third;
  grpc::Alarm second_alarm, third_alarm;
  IdleProbe first([&] {
    second_alarm.Set(queue, absl::ToChronoTime(absl::InfiniteFuture()), &second);
    second_alarm.Cancel();
    third_alarm.Set(queue, absl::ToChronoTime(absl::InfiniteFuture()), &third);
    third_alarm.Cancel();
  });
  grpc::Alarm first_alarm;
  first_alarm.Set(queue, absl::ToChronoTime(absl::InfiniteFuture()), &first);
  first_alarm.Cancel();
  first.Seen();
  EXPECT_FALSE(second.Seen());
  EXPECT_FALSE(third.Seen());

  // An event that comes while the thread waits on an empty queue was waited for. The thread
  // may not be waiting yet when an alarm fires (it then finds the event ready): the first of
  // a few alarms 20 ms apart to find it waiting says so.
  bool waited = false;
  for (int i = 0; i < 50 && !waited; ++i) {
    IdleProbe later;
    grpc::Alarm alarm;
    alarm.Set(queue, absl::ToChronoTime(absl::Now() + absl::Milliseconds(20)), &later);
    waited = later.Seen();
  }
  EXPECT_TRUE(waited);
  rt->Shutdown();
}

TEST(ServiceRuntimeTest, ScrapeHooksRunBeforeEachScrape) {
  auto scrapes = std::make_shared<std::atomic<int>>(0);
  ServerConfig config;
  config.grpc_address = "127.0.0.1:0";
  config.metrics_address = "127.0.0.1:0";
  ASSERT_OK_AND_ASSIGN(auto rt,
                       ServiceRuntime::Start("hooked", config, [scrapes](ServiceHost& host) {
                         prometheus::Gauge* gauge = &prometheus::BuildGauge()
                                                         .Name("test_scrapes")
                                                         .Help("Scrapes so far.")
                                                         .Register(host.metrics())
                                                         .Add({});
                         host.OnScrape([scrapes, gauge] { gauge->Set(++*scrapes); });
                         return absl::OkStatus();
                       }));
  ASSERT_OK_AND_ASSIGN(std::string first, HttpGet("127.0.0.1", rt->metrics_port(), "/metrics"));
  EXPECT_THAT(first, HasSubstr("test_scrapes 1\n"));
  ASSERT_OK_AND_ASSIGN(std::string second, HttpGet("127.0.0.1", rt->metrics_port(), "/metrics"));
  EXPECT_THAT(second, HasSubstr("test_scrapes 2\n"));
}

TEST(ServiceRuntimeTest, UnknownStatusLeavesAsInternalAndUnknownPathsShareOneSeries) {
  ASSERT_OK_AND_ASSIGN(auto rt, StartInProcess(EchoDefinition(), ""));
  auto channel = ChannelTo(*rt);
  EchoRequest unknown;
  unknown.set_fail_code(static_cast<int>(grpc::StatusCode::UNKNOWN));
  EchoResponse resp;
  EXPECT_EQ(CallEcho(channel, unknown, &resp).error_code(), grpc::StatusCode::INTERNAL);

  // Calls to methods nobody serves: each distinct path must not become a series of its own.
  for (int i = 0; i < 3; ++i) {
    std::string path = absl::StrCat("/no.Such/Method", i);
    grpc::internal::RpcMethod method(path.c_str(), grpc::internal::RpcMethod::NORMAL_RPC);
    grpc::ClientContext ctx;
    EchoResponse out;
    EXPECT_EQ(
        grpc::internal::BlockingUnaryCall(channel.get(), method, &ctx, unknown, &out).error_code(),
        grpc::StatusCode::UNIMPLEMENTED);
  }
  ASSERT_OK_AND_ASSIGN(std::string text, HttpGet("127.0.0.1", rt->metrics_port(), "/metrics"));
  EXPECT_THAT(text, HasSubstr("grpc_server_handled_total{grpc_code=\"INTERNAL\",grpc_method="
                              "\"Echo\",grpc_service=\"granary.testing.v1.EchoService\"} 1"));
  EXPECT_THAT(text, HasSubstr("grpc_server_handled_total{grpc_code=\"UNIMPLEMENTED\","
                              "grpc_method=\"unknown\",grpc_service=\"unknown\"} 3"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("no.Such")));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("grpc_code=\"UNKNOWN\"")));
}

TEST(ServiceRuntimeTest, DrainLetsInFlightCallsFinish) {
  ASSERT_OK_AND_ASSIGN(auto rt, StartInProcess(EchoDefinition(), "server: {drain_timeout: 10s}\n"));
  auto channel = ChannelTo(*rt);
  EchoRequest slow;
  slow.set_text("slow");
  slow.set_delay_ms(500);
  auto result = std::async(std::launch::async, [&] {
    EchoResponse resp;
    return CallEcho(channel, slow, &resp);
  });
  ASSERT_TRUE(WaitForEchoCallsInFlight(1, absl::Seconds(10)));
  rt->Shutdown();
  EXPECT_TRUE(result.get().ok());
  EXPECT_FALSE(rt->serving());
}

// The check a runtime builds from server.gateway_signature reaches the build function, so
// handlers refuse what the gateway did not sign and name whom it signed for.
TEST(ServiceRuntimeTest, HandlersGetTheGatewaySignatureCheckFromTheConfig) {
  ASSERT_OK_AND_ASSIGN(TestGateway gateway, TestGateway::Create());
  ASSERT_OK_AND_ASSIGN(
      auto rt,
      StartInProcess(EchoDefinition(), absl::StrCat("server: {", gateway.RequiredConfig(), "}\n")));
  auto channel = ChannelTo(*rt);
  const std::string service = EchoService::service_full_name();
  for (const auto& [why, metadata] : gateway.WrongSignatures()) {
    ASSERT_OK_AND_ASSIGN(auto statuses, CallEveryMethod(channel, service, metadata));
    EXPECT_THAT(statuses, ElementsAre(Pair("/granary.testing.v1.EchoService/Echo",
                                           StatusIs(absl::StatusCode::kUnauthenticated))))
        << why;
  }
  grpc::ClientContext ctx;
  gateway.Authorize(ctx, "alice", "/granary.testing.v1.EchoService/Echo");
  EchoRequest req;
  req.set_text("hi");
  EchoResponse resp;
  ASSERT_TRUE(EchoService::NewStub(channel)->Echo(&ctx, req, &resp).ok());
  EXPECT_EQ(resp.caller(), "alice");
  // Health and reflection stay open: load balancers and the gateway call them directly.
  ASSERT_OK(WaitForHealth(channel, "", HealthCheckResponse::SERVING, absl::Seconds(10)));
  ASSERT_OK(ListServices(channel).status());
}

// What a build function gets to call other services with: its name and the same secret, so a
// backend requiring the signature answers its calls, as the service.
TEST(ServiceRuntimeTest, BuildFunctionsGetTheServiceCallerFromTheConfig) {
  ASSERT_OK_AND_ASSIGN(TestGateway gateway, TestGateway::Create());
  ASSERT_OK_AND_ASSIGN(
      auto backend,
      StartInProcess(EchoDefinition(), absl::StrCat("server: {", gateway.RequiredConfig(), "}\n")));
  ServerConfig config;
  config.grpc_address = "127.0.0.1:0";
  config.metrics_address = "127.0.0.1:0";
  ASSERT_OK_AND_ASSIGN(config.gateway_signature.secret,
                       config::Secret::FromFile(gateway.secret_file()));
  rpc::ServiceCaller caller;
  ASSERT_OK_AND_ASSIGN(auto rt, ServiceRuntime::Start("ingestion", config, [&](ServiceHost& host) {
                         caller = host.service_caller();
                         return absl::OkStatus();
                       }));
  EXPECT_EQ(caller.service, "ingestion");
  EchoResponse resp;
  grpc::Status s = CallEcho(
      rpc::ServiceChannel(absl::StrCat("127.0.0.1:", backend->grpc_port()), caller), {}, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.caller(), "service:ingestion");
}

TEST(ServiceRuntimeTest, WithoutARequiredSignatureTheUnsignedCallerNameIsKept) {
  ASSERT_OK_AND_ASSIGN(auto rt, StartInProcess(EchoDefinition(), ""));
  grpc::ClientContext ctx;
  ctx.AddMetadata("x-granary-caller", "ci-bot");
  EchoResponse resp;
  ASSERT_TRUE(EchoService::NewStub(ChannelTo(*rt))->Echo(&ctx, EchoRequest(), &resp).ok());
  EXPECT_EQ(resp.caller(), "ci-bot");
}

TEST(ServiceRuntimeTest, TakenAddressFailsToStart) {
  ASSERT_OK_AND_ASSIGN(auto first, StartInProcess(EchoDefinition(), ""));
  EXPECT_THAT(
      StartInProcess(EchoDefinition(),
                     absl::StrCat("server: {grpc_address: 127.0.0.1:", first->grpc_port(), "}\n")),
      StatusIs(absl::StatusCode::kUnavailable, HasSubstr("cannot serve gRPC")));
}

TEST(ServiceRuntimeTest, InvalidConfigListsEveryProblem) {
  EXPECT_THAT(StartInProcess(EchoDefinition(),
                             "server: {grpc_address: nowhere, log_level: loud}\necho: {x: 1}\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::AllOf(HasSubstr("server.grpc_address"),
                                        HasSubstr("server.log_level"), HasSubstr("echo.x"))));
}

}  // namespace
}  // namespace granary::server
