#include "services/registry/registry_service.h"

#include "libs/base/status_macros.h"
#include "libs/bus/connection.h"
#include "libs/bus/jetstream.h"
#include "libs/bus/streams.h"
#include "libs/pg/pool.h"
#include "services/registry/change_publisher.h"
#include "services/registry/cleanup_announcer.h"
#include "services/registry/pg_store.h"
#include "services/registry/registry.h"
#include "services/registry/registry_grpc.h"

namespace granary::registry {
namespace {

absl::Status Build(const RegistryConfig& config, server::ServiceHost& host) {
  auto pool = std::make_shared<pg::Pool>(config.postgres);
  auto store = std::make_shared<PgStore>(pool);
  ASSIGN_OR_RETURN(std::shared_ptr<bus::Connection> nats, bus::Connection::Open(config.nats));
  ASSIGN_OR_RETURN(std::shared_ptr<bus::JetStream> js, bus::JetStream::Create(nats));
  auto publisher = std::make_shared<NatsChangePublisher>(nats, host.metrics());
  auto announcer = std::make_shared<CleanupAnnouncer>(store, js, absl::Seconds(5));
  auto registry = std::make_shared<Registry>(store, publisher, [announcer] { announcer->Wake(); });
  // Migrate now. PostgreSQL not reachable yet is fine (the health check migrates when it is);
  // anything else (a broken migration, a newer schema) is a reason not to start.
  if (absl::Status migrated = store->Migrate(); !migrated.ok() && !absl::IsUnavailable(migrated)) {
    return migrated;
  }
  host.AddDependency("postgres", [store, pool]() -> absl::Status {
    RETURN_IF_ERROR(store->Migrate());
    return pool->Ping();
  });
  // Watched, not required: an apply commits without NATS (caches then learn of it by polling,
  // cleanups wait in the outbox), so a NATS outage must not take the registry out of rotation.
  host.AddOptionalDependency(
      "nats", bus::JetStreamCheck(nats, js, config.jetstream, absl::Seconds(30), nullptr,
                                  /*create_consumers=*/false));
  host.OnStart([announcer] { announcer->Start(); });
  host.OnStop([announcer] { announcer->Stop(); });
  host.AddGrpcService(std::make_unique<RegistryGrpc>(registry, host.callers()),
                      v1::RegistryService::service_full_name());
  return absl::OkStatus();
}

}  // namespace

server::ServiceDefinition<RegistryConfig> Definition() {
  return {.name = "registry",
          .defaults = {.grpc_address = "0.0.0.0:6570", .metrics_address = "0.0.0.0:9570"},
          .read_config = ReadRegistryConfig,
          .build = Build};
}

}  // namespace granary::registry
