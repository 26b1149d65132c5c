#include "libs/rpc/health.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"

#include "libs/base/grpc_status.h"

namespace granary::rpc {

using ::grpc::health::v1::Health;
using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;

absl::string_view HealthStateName(HealthState state) {
  switch (state) {
    case HealthState::kServing:
      return "SERVING";
    case HealthState::kNotServing:
      return "NOT_SERVING";
    case HealthState::kServiceUnknown:
      return "SERVICE_UNKNOWN";
    case HealthState::kUnknown:
      break;
  }
  return "UNKNOWN";
}

grpc::ChannelArguments QuickReconnectArguments() {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  return args;
}

std::shared_ptr<grpc::Channel> InsecureChannel(const std::string& address) {
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(),
                                   QuickReconnectArguments());
}

absl::StatusOr<HealthState> CheckHealth(const std::shared_ptr<grpc::Channel>& channel,
                                        absl::string_view service, absl::Duration timeout) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  HealthCheckRequest req;
  req.set_service(std::string(service));
  HealthCheckResponse resp;
  grpc::Status s = Health::NewStub(channel)->Check(&ctx, req, &resp);
  if (s.error_code() == grpc::StatusCode::NOT_FOUND) return HealthState::kServiceUnknown;
  if (!s.ok()) return base::FromGrpcStatus(s);
  switch (resp.status()) {
    case HealthCheckResponse::SERVING:
      return HealthState::kServing;
    case HealthCheckResponse::NOT_SERVING:
      return HealthState::kNotServing;
    case HealthCheckResponse::SERVICE_UNKNOWN:
      return HealthState::kServiceUnknown;
    default:
      return HealthState::kUnknown;
  }
}

absl::Status RequireServing(const std::shared_ptr<grpc::Channel>& channel, absl::string_view what,
                            absl::Duration timeout) {
  absl::StatusOr<HealthState> state = CheckHealth(channel, "", timeout);
  if (!state.ok()) {
    return absl::UnavailableError(absl::StrCat(what, ": ", state.status().message()));
  }
  if (*state != HealthState::kServing) {
    return absl::UnavailableError(absl::StrCat(what, " is ", HealthStateName(*state)));
  }
  return absl::OkStatus();
}

}  // namespace granary::rpc
