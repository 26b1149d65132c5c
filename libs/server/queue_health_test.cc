#include "libs/server/queue_health.h"

#include <atomic>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"

#include "libs/server/run_service.h"
#include "libs/server/service_runtime.h"
#include "libs/testing/grpc_probes.h"
#include "libs/testing/status_matchers.h"

namespace granary::server {
namespace {

using ::granary::testing::CheckHealth;
using ::granary::testing::ListServices;
using ::granary::testing::WaitForHealth;
using ::grpc::health::v1::Health;
using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;
using ::testing::Contains;

struct NoConfig {};

// A service on the runtime's queues with nothing but health, which follows `healthy`.
ServiceDefinition<NoConfig> QueueDefinition(const std::atomic<bool>* healthy) {
  return {.name = "queued",
          .defaults = {"127.0.0.1:0", "127.0.0.1:0"},
          .read_config = [](config::Reader&) { return NoConfig{}; },
          .build =
              [healthy](const NoConfig&, ServiceHost& host) {
                host.UseQueues(1, [](const std::vector<grpc::ServerCompletionQueue*>&) {});
                host.AddDependency("backend", [healthy]() -> absl::Status {
                  return healthy->load() ? absl::OkStatus() : absl::UnavailableError("down");
                });
                return absl::OkStatus();
              }};
}

std::shared_ptr<grpc::Channel> ChannelTo(const ServiceRuntime& rt) {
  return grpc::CreateChannel(absl::StrCat("127.0.0.1:", rt.grpc_port()),
                             grpc::InsecureChannelCredentials());
}

constexpr char kFastChecks[] = "server: {dependency_check_interval: 50ms, drain_timeout: 60s}\n";

TEST(QueueHealthTest, CheckAnswersLikeGrpcsOwnService) {
  std::atomic<bool> healthy{true};
  ASSERT_OK_AND_ASSIGN(auto rt, StartInProcess(QueueDefinition(&healthy), kFastChecks));
  auto channel = ChannelTo(*rt);
  ASSERT_OK(WaitForHealth(channel, "", HealthCheckResponse::SERVING, absl::Seconds(10)));
  healthy = false;
  ASSERT_OK(WaitForHealth(channel, "", HealthCheckResponse::NOT_SERVING, absl::Seconds(10)));

  grpc::ClientContext ctx;
  HealthCheckRequest request;
  request.set_service("no.such.Service");
  HealthCheckResponse response;
  grpc::Status unknown = Health::NewStub(channel)->Check(&ctx, request, &response);
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::NOT_FOUND);

  ASSERT_OK_AND_ASSIGN(std::vector<std::string> services, ListServices(channel));
  EXPECT_THAT(services, Contains("grpc.health.v1.Health"));
}

TEST(QueueHealthTest, WatchSendsEveryChangeAndEndsWhenTheServerDrains) {
  std::atomic<bool> healthy{true};
  ASSERT_OK_AND_ASSIGN(auto rt, StartInProcess(QueueDefinition(&healthy), kFastChecks));
  auto channel = ChannelTo(*rt);
  ASSERT_OK(WaitForHealth(channel, "", HealthCheckResponse::SERVING, absl::Seconds(10)));

  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(50)));
  HealthCheckRequest request;
  auto watch = Health::NewStub(channel)->Watch(&ctx, request);
  HealthCheckResponse update;
  ASSERT_TRUE(watch->Read(&update));
  EXPECT_EQ(update.status(), HealthCheckResponse::SERVING);

  healthy = false;
  ASSERT_TRUE(watch->Read(&update));
  EXPECT_EQ(update.status(), HealthCheckResponse::NOT_SERVING);
  healthy = true;
  ASSERT_TRUE(watch->Read(&update));
  EXPECT_EQ(update.status(), HealthCheckResponse::SERVING);

  // A watch of a service it does not know is told so, and stays open.
  grpc::ClientContext unknown_ctx;
  request.set_service("no.such.Service");
  auto unknown = Health::NewStub(channel)->Watch(&unknown_ctx, request);
  ASSERT_TRUE(unknown->Read(&update));
  EXPECT_EQ(update.status(), HealthCheckResponse::SERVICE_UNKNOWN);

  // The drain: watchers learn NOT_SERVING, then their streams end, and the shutdown does not
  // wait its 60 s timeout for them.
  absl::Time start = absl::Now();
  rt->Shutdown();
  EXPECT_LT(absl::Now() - start, absl::Seconds(30));
  ASSERT_TRUE(watch->Read(&update));
  EXPECT_EQ(update.status(), HealthCheckResponse::NOT_SERVING);
  EXPECT_FALSE(watch->Read(&update));
  EXPECT_EQ(watch->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  while (unknown->Read(&update)) {
  }
  EXPECT_EQ(unknown->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
}

}  // namespace
}  // namespace granary::server
