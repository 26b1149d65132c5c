#include "services/materializer/materializer_service.h"

#include "libs/base/status_macros.h"
#include "libs/bus/connection.h"
#include "libs/bus/jetstream.h"
#include "libs/bus/streams.h"
#include "libs/onlinestore/redis_online_store.h"
#include "libs/pg/pool.h"
#include "libs/registry_client/registry_client.h"
#include "services/materializer/materializer_grpc.h"
#include "services/materializer/offline_writer.h"
#include "services/materializer/online_writer.h"
#include "services/materializer/push_consumer.h"
#include "services/materializer/writer_metrics.h"

namespace granary::materializer {
namespace {

absl::Status Build(const MaterializerConfig& config, server::ServiceHost& host) {
  auto metrics = std::make_shared<WriterMetrics>(host.metrics());
  host.AddCollectable(metrics->histograms());
  host.OnScrape([metrics] { metrics->UpdateAges(absl::Now()); });

  ASSIGN_OR_RETURN(std::shared_ptr<bus::Connection> nats, bus::Connection::Open(config.nats));
  ASSIGN_OR_RETURN(std::shared_ptr<bus::JetStream> js, bus::JetStream::Create(nats));
  host.AddDependency(
      "nats", bus::JetStreamCheck(nats, js,
                                  {bus::PushStreamSpec(config.dedupe_window, config.retention),
                                   bus::DeadLetterStreamSpec(config.retention)}));
  auto store = std::make_shared<onlinestore::RedisOnlineStore>(config.redis);
  std::shared_ptr<onlinestore::OnlineStoreSession> probe = store->NewSession();
  absl::Duration ping_timeout = config.redis.command_timeout;
  host.AddDependency("redis",
                     [probe, ping_timeout] { return probe->Ping(absl::Now() + ping_timeout); });
  auto offline = std::make_shared<pg::Pool>(config.offline_store);
  host.AddDependency("postgres", [offline] { return offline->Ping(); });

  auto registry = std::make_shared<registry_client::RegistryClient>(config.registry, nats);
  RETURN_IF_ERROR(registry->Start());
  host.AddOptionalDependency("registry", [registry] { return registry->Ready(); });
  // Projects are watched as their batches arrive; the first batch of a project waits a little
  // for its catalog (UNAVAILABLE, and delivered again, if the registry does not answer).
  CatalogLookup lookup = [registry](const std::string& project) {
    if (auto catalog = registry->Get(project)) {
      return absl::StatusOr<std::shared_ptr<const registry_client::Catalog>>(catalog);
    }
    registry->Watch(project);
    registry->WaitUntil(
        project, [](const registry_client::Catalog* c) { return c != nullptr; }, absl::Seconds(2));
    return registry->Lookup(project);
  };

  auto online = std::make_shared<PushConsumer>(
      config.online_writer, js,
      std::make_shared<OnlineWriter>(store, lookup, metrics, config.write_timeout), metrics);
  auto offline_writer = std::make_shared<PushConsumer>(
      config.offline_writer, js, std::make_shared<OfflineWriter>(offline, lookup, metrics),
      metrics);
  host.OnStart([online, offline_writer] {
    online->Start();
    offline_writer->Start();
  });
  host.OnStop([online, offline_writer, registry] {
    online->Stop();
    offline_writer->Stop();
    registry->Stop();
  });
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
