#include "services/serving/serving_service.h"

#include "libs/redis/client.h"
#include "services/serving/serving_grpc.h"

namespace granary::serving {
namespace {

absl::Status Build(const ServingConfig& config, server::ServiceHost& host) {
  auto redis = std::make_shared<redis::Client>(config.redis);
  host.AddDependency("redis", [redis] { return redis->Ping(); });
  host.AddGrpcService(std::make_unique<ServingGrpc>(), v1::ServingService::service_full_name());
  host.AddGrpcService(std::make_unique<FeastServingGrpc>(),
                      feast::serving::ServingService::service_full_name());
  return absl::OkStatus();
}

}  // namespace

server::ServiceDefinition<ServingConfig> Definition() {
  return {.name = "serving",
          .defaults = {.grpc_address = "0.0.0.0:6571", .metrics_address = "0.0.0.0:9571"},
          .read_config = ReadServingConfig,
          .build = Build};
}

}  // namespace granary::serving
