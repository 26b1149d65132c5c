#include "services/ingestion/ingestion_service.h"

#include "libs/base/clock.h"
#include "libs/base/status_macros.h"
#include "libs/bus/connection.h"
#include "libs/bus/jetstream.h"
#include "libs/bus/streams.h"
#include "libs/registry_client/registry_client.h"
#include "services/ingestion/in_flight_budget.h"
#include "services/ingestion/ingestion_grpc.h"
#include "services/ingestion/ingestion_metrics.h"
#include "services/ingestion/pusher.h"

namespace granary::ingestion {
namespace {

absl::Status Build(const IngestionConfig& config, server::ServiceHost& host) {
  auto metrics = std::make_shared<IngestionMetrics>(host.metrics());
  host.AddCollectable(metrics->histograms());
  ASSIGN_OR_RETURN(std::shared_ptr<bus::Connection> nats, bus::Connection::Open(config.nats));
  ASSIGN_OR_RETURN(std::shared_ptr<bus::JetStream> js,
                   bus::JetStream::Create(nats, {.publish_timeout = config.publish_timeout}));
  auto safety = std::make_shared<bus::StreamSafety>();
  host.AddDependency("nats",
                     bus::JetStreamCheck(nats, js, config.jetstream, absl::Seconds(30), safety,
                                         /*create_consumers=*/false));

  // Signed as this service: a registry that requires the gateway's signature answers it.
  registry_client::RegistryClientOptions registry_options = config.registry;
  registry_options.caller = host.service_caller();
  auto registry = std::make_shared<registry_client::RegistryClient>(registry_options, nats);
  RETURN_IF_ERROR(registry->Start());
  for (const std::string& project : config.pusher.projects) registry->Watch(project);
  // Pushes are checked against the last catalog held while the registry is down.
  host.AddOptionalDependency("registry", [registry] { return registry->Ready(); });
  host.OnStop([registry] { registry->Stop(); });

  auto budget = std::make_shared<InFlightBudget>(config.max_bytes_in_flight);
  host.OnScrape([metrics, budget] { metrics->SetBytesInFlight(budget->in_use()); });
  PusherOptions pusher_options = config.pusher;
  pusher_options.streams_safe = [safety] { return safety->Get(); };
  auto pusher = std::make_shared<Pusher>(
      pusher_options, [registry](const std::string& project) { return registry->Lookup(project); },
      js, budget, &base::Clock::Real(), metrics);
  auto grpc_service = std::make_unique<IngestionGrpc>(pusher, config.streams, host.callers(),
                                                      metrics, host.tracer());
  host.OnScrape(
      [metrics, open = grpc_service->open_streams()] { metrics->SetOpenStreams(open->load()); });
  host.AddGrpcService(std::move(grpc_service), v1::IngestionService::service_full_name());
  return absl::OkStatus();
}

}  // namespace

server::ServiceDefinition<IngestionConfig> Definition() {
  return {.name = "ingestion",
          // gRPC's buffers bounded too: requests are read whole before the budget sees them.
          .defaults = {.grpc_address = "0.0.0.0:6572",
                       .metrics_address = "0.0.0.0:9572",
                       .grpc_memory_limit = int64_t{512} << 20},
          .read_config = ReadIngestionConfig,
          .build = Build};
}

}  // namespace granary::ingestion
