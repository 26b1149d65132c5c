// The serving service: answers GetOnlineFeatures from Redis (see README.md).
#ifndef GRANARY_SERVICES_SERVING_SERVING_SERVICE_H_
#define GRANARY_SERVICES_SERVING_SERVING_SERVICE_H_

#include "libs/server/run_service.h"
#include "services/serving/config.h"

namespace granary::serving {

server::ServiceDefinition<ServingConfig> Definition();

}  // namespace granary::serving

#endif  // GRANARY_SERVICES_SERVING_SERVING_SERVICE_H_
