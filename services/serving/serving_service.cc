#include "services/serving/serving_service.h"

#include "libs/base/clock.h"
#include "libs/base/status_macros.h"
#include "libs/bus/connection.h"
#include "libs/onlinestore/redis_online_store.h"
#include "libs/registry_client/registry_client.h"
#include "services/serving/online_reader.h"
#include "services/serving/serving_grpc.h"
#include "services/serving/serving_metrics.h"

namespace granary::serving {
namespace {

absl::Status Build(const ServingConfig& config, server::ServiceHost& host) {
  auto metrics = std::make_shared<ServingMetrics>(host.metrics());
  for (auto& histogram : metrics->histograms()) host.AddCollectable(histogram);
  auto store = std::make_shared<onlinestore::RedisOnlineStore>(
      config.redis, onlinestore::AsyncReadOptions{
                        .connections = config.read_connections,
                        .read_on_caller_when_idle = config.read_on_request_thread,
                        .caller_wait = config.request_thread_wait,
                        .on_round_trip = [metrics](absl::Duration round_trip, size_t gets) {
                          metrics->RecordRoundTrip(round_trip, gets);
                        }});
  // One session for the health check, used by the monitor's thread only.
  std::shared_ptr<onlinestore::OnlineStoreSession> probe = store->NewSession();
  absl::Duration ping_timeout = config.redis.command_timeout;
  host.AddDependency("redis",
                     [probe, ping_timeout] { return probe->Ping(absl::Now() + ping_timeout); });

  std::shared_ptr<bus::Connection> nats;
  if (config.nats.has_value()) {
    ASSIGN_OR_RETURN(nats, bus::Connection::Open(*config.nats));
    host.AddOptionalDependency("nats", [nats] { return nats->Ping(); });
  }
  // Signed as this service: a registry that requires the gateway's signature answers it.
  registry_client::RegistryClientOptions registry_options = config.registry;
  registry_options.caller = host.service_caller();
  auto registry = std::make_shared<registry_client::RegistryClient>(registry_options, nats);
  RETURN_IF_ERROR(registry->Start());
  for (const std::string& project : config.reader.projects) registry->Watch(project);
  // Serving keeps answering from the catalogs it holds while the registry is down: watched,
  // not required.
  host.AddOptionalDependency("registry", [registry] { return registry->Ready(); });
  host.OnStop([registry] { registry->Stop(); });
  host.OnScrape([registry, metrics, projects = config.reader.projects] {
    for (const std::string& project : projects) {
      std::shared_ptr<const registry_client::Catalog> catalog = registry->Get(project);
      metrics->RecordCatalog(
          project, catalog == nullptr ? 0 : catalog->version(),
          catalog == nullptr ? absl::ZeroDuration() : absl::Now() - catalog->committed_time());
    }
  });

  auto reader = std::make_shared<OnlineReader>(
      config.reader, [registry](const std::string& project) { return registry->Lookup(project); },
      store, base::Clock::Real(), metrics);
  // Under both names, on completion queues the runtime drives (no callback thread of gRPC's
  // in this process: serving_grpc.h says why).
  auto adapter = std::make_shared<ServingGrpc>(reader, host.callers());
  for (auto& [service, name] : adapter->TakeServices()) {
    host.AddAsyncService(std::move(service), name);
  }
  host.UseQueues(config.grpc_threads,
                 [adapter](const std::vector<grpc::ServerCompletionQueue*>& queues) {
                   adapter->Start(queues);
                 });
  host.OnStop([adapter] { adapter->Drain(); });
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
