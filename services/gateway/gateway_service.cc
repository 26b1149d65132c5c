#include "services/gateway/gateway_service.h"

#include "libs/rpc/health.h"

namespace granary::gateway {
namespace {

constexpr absl::Duration kUpstreamCheckTimeout = absl::Seconds(1);

std::function<absl::Status()> UpstreamCheck(const std::string& name, const std::string& address) {
  auto channel = rpc::InsecureChannel(address);
  return [channel, name] { return rpc::RequireServing(channel, name, kUpstreamCheckTimeout); };
}

absl::Status Build(const GatewayConfig& config, server::ServiceHost& host) {
  // Nothing can be authorized without the registry's permissions, so it gates health. The
  // others are watched only: reads keep flowing while, say, the materializer restarts.
  host.AddDependency("registry", UpstreamCheck("registry", config.upstreams.registry));
  host.AddOptionalDependency("serving", UpstreamCheck("serving", config.upstreams.serving));
  host.AddOptionalDependency("ingestion", UpstreamCheck("ingestion", config.upstreams.ingestion));
  host.AddOptionalDependency("materializer",
                             UpstreamCheck("materializer", config.upstreams.materializer));
  return absl::OkStatus();
}

}  // namespace

server::ServiceDefinition<GatewayConfig> Definition() {
  return {.name = "gateway",
          .defaults = {.grpc_address = "0.0.0.0:6565", .metrics_address = "0.0.0.0:9565"},
          .read_config = ReadGatewayConfig,
          .build = Build};
}

}  // namespace granary::gateway
