#include "services/materializer/materializer_service.h"

#include "libs/base/status_macros.h"
#include "libs/bus/connection.h"
#include "libs/pg/pool.h"
#include "libs/redis/client.h"
#include "services/materializer/materializer_grpc.h"

namespace granary::materializer {
namespace {

absl::Status Build(const MaterializerConfig& config, server::ServiceHost& host) {
  ASSIGN_OR_RETURN(std::shared_ptr<bus::Connection> nats, bus::Connection::Open(config.nats));
  auto redis = std::make_shared<redis::Client>(config.redis);
  auto offline = std::make_shared<pg::Pool>(config.offline_store);
  host.AddDependency("nats", [nats] { return nats->Ping(); });
  host.AddDependency("redis", [redis] { return redis->Ping(); });
  host.AddDependency("postgres", [offline] { return offline->Ping(); });
  host.AddGrpcService(std::make_unique<MaterializerGrpc>(),
                      materialization::v1::MaterializationService::service_full_name());
  return absl::OkStatus();
}

}  // namespace

server::ServiceDefinition<MaterializerConfig> Definition() {
  return {.name = "materializer",
          .defaults = {.grpc_address = "0.0.0.0:6573", .metrics_address = "0.0.0.0:9573"},
          .read_config = ReadMaterializerConfig,
          .build = Build};
}

}  // namespace granary::materializer
