#include "services/ingestion/ingestion_service.h"

#include "libs/base/status_macros.h"
#include "libs/bus/connection.h"
#include "services/ingestion/ingestion_grpc.h"

namespace granary::ingestion {
namespace {

absl::Status Build(const IngestionConfig& config, server::ServiceHost& host) {
  ASSIGN_OR_RETURN(std::shared_ptr<bus::Connection> nats, bus::Connection::Open(config.nats));
  host.AddDependency("nats", [nats] { return nats->Ping(); });
  host.AddGrpcService(std::make_unique<IngestionGrpc>(), v1::IngestionService::service_full_name());
  return absl::OkStatus();
}

}  // namespace

server::ServiceDefinition<IngestionConfig> Definition() {
  return {.name = "ingestion",
          .defaults = {.grpc_address = "0.0.0.0:6572", .metrics_address = "0.0.0.0:9572"},
          .read_config = ReadIngestionConfig,
          .build = Build};
}

}  // namespace granary::ingestion
