// Client side of gRPC health checking: one check of a server (or one of its services) with a
// deadline, as the CLI's `status` and the gateway's upstream dependencies do.
//
//   auto channel = rpc::InsecureChannel("127.0.0.1:6571");
//   ASSIGN_OR_RETURN(rpc::HealthState state, rpc::CheckHealth(channel, "", absl::Seconds(2)));
#ifndef GRANARY_LIBS_RPC_HEALTH_H_
#define GRANARY_LIBS_RPC_HEALTH_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/support/channel_arguments.h"

namespace grpc {
class Channel;
}

namespace granary::rpc {

enum class HealthState { kUnknown, kServing, kNotServing, kServiceUnknown };

absl::string_view HealthStateName(HealthState state);

// A plaintext channel to host:port that retries a lost connection within about 2 s (gRPC's
// default backoff grows to 2 minutes, so a restarted upstream would go unnoticed that long).
std::shared_ptr<grpc::Channel> InsecureChannel(const std::string& address);
// Its arguments, for channels made otherwise (ServiceChannel's, with interceptors).
grpc::ChannelArguments QuickReconnectArguments();

// The server's answer; UNAVAILABLE / DEADLINE_EXCEEDED when it does not answer in time.
absl::StatusOr<HealthState> CheckHealth(const std::shared_ptr<grpc::Channel>& channel,
                                        absl::string_view service, absl::Duration timeout);

// OK when the answer is SERVING; otherwise a status naming what was seen (for dependencies).
absl::Status RequireServing(const std::shared_ptr<grpc::Channel>& channel, absl::string_view what,
                            absl::Duration timeout);

}  // namespace granary::rpc

#endif  // GRANARY_LIBS_RPC_HEALTH_H_
