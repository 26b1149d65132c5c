// The registry service: the feature catalog in PostgreSQL, change events on NATS (README.md).
#ifndef GRANARY_SERVICES_REGISTRY_REGISTRY_SERVICE_H_
#define GRANARY_SERVICES_REGISTRY_REGISTRY_SERVICE_H_

#include "libs/server/run_service.h"
#include "services/registry/config.h"

namespace granary::registry {

server::ServiceDefinition<RegistryConfig> Definition();

}  // namespace granary::registry

#endif  // GRANARY_SERVICES_REGISTRY_REGISTRY_SERVICE_H_
