// The gateway: the front door (README.md). Authentication, authorization and forwarding are
// not built yet; today it serves health, reflection and metrics, and watches its upstreams.
#ifndef GRANARY_SERVICES_GATEWAY_GATEWAY_SERVICE_H_
#define GRANARY_SERVICES_GATEWAY_GATEWAY_SERVICE_H_

#include "libs/server/run_service.h"
#include "services/gateway/config.h"

namespace granary::gateway {

server::ServiceDefinition<GatewayConfig> Definition();

}  // namespace granary::gateway

#endif  // GRANARY_SERVICES_GATEWAY_GATEWAY_SERVICE_H_
