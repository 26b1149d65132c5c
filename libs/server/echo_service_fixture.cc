#include "libs/server/echo_service_fixture.h"

#include <unistd.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "granary/testing/v1/echo.grpc.pb.h"
#include "grpcpp/grpcpp.h"

#include "libs/base/grpc_status.h"

namespace granary::server {
namespace {

using ::granary::testing::v1::EchoRequest;
using ::granary::testing::v1::EchoResponse;
using ::granary::testing::v1::EchoService;

absl::Mutex in_flight_mu;
int in_flight ABSL_GUARDED_BY(in_flight_mu) = 0;

class EchoImpl : public EchoService::Service {
 public:
  explicit EchoImpl(CallerCheck callers) : callers_(std::move(callers)) {}

 private:
  grpc::Status Echo(grpc::ServerContext* ctx, const EchoRequest* req, EchoResponse* resp) override {
    absl::StatusOr<std::string> caller =
        callers_.CallerUser(*ctx, EchoService::service_full_name(), "Echo");
    if (!caller.ok()) return base::ToGrpcStatus(caller.status());
    {
      absl::MutexLock lock(&in_flight_mu);
      ++in_flight;
    }
    // The delay stands for work in progress (what a drain must let finish).
    if (req->delay_ms() > 0) absl::SleepFor(absl::Milliseconds(req->delay_ms()));
    {
      absl::MutexLock lock(&in_flight_mu);
      --in_flight;
    }
    if (req->fail_code() != 0) {
      return grpc::Status(static_cast<grpc::StatusCode>(req->fail_code()), "asked to fail");
    }
    resp->set_text(req->text());
    resp->set_caller(*caller);
    return grpc::Status::OK;
  }

  const CallerCheck callers_;
};

}  // namespace

bool WaitForEchoCallsInFlight(int n, absl::Duration timeout) {
  absl::MutexLock lock(&in_flight_mu);
  auto enough = [n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(in_flight_mu) { return in_flight >= n; };
  return in_flight_mu.AwaitWithTimeout(absl::Condition(&enough), timeout);
}

ServiceDefinition<EchoConfig> EchoDefinition(const std::atomic<bool>* healthy) {
  return {
      .name = "echo",
      .defaults = {"127.0.0.1:0", "127.0.0.1:0"},
      .read_config =
          [](config::Reader& root) {
            EchoConfig c;
            c.healthy_file = root.Section("echo").String("healthy_file", "");
            return c;
          },
      .build =
          [healthy](const EchoConfig& config, ServiceHost& host) {
            host.AddGrpcService(std::make_unique<EchoImpl>(host.callers()),
                                EchoService::service_full_name());
            std::string file = config.healthy_file;
            host.AddDependency("backend", [file, healthy]() -> absl::Status {
              if (healthy != nullptr) {
                return healthy->load() ? absl::OkStatus() : absl::UnavailableError("down");
              }
              if (file.empty() || access(file.c_str(), F_OK) == 0) return absl::OkStatus();
              return absl::UnavailableError(absl::StrCat(file, " is missing"));
            });
            return absl::OkStatus();
          },
  };
}

}  // namespace granary::server
