// The materializer: the worker pool that writes the stores (README.md).
#ifndef GRANARY_SERVICES_MATERIALIZER_MATERIALIZER_SERVICE_H_
#define GRANARY_SERVICES_MATERIALIZER_MATERIALIZER_SERVICE_H_

#include "libs/server/run_service.h"
#include "services/materializer/config.h"

namespace granary::materializer {

server::ServiceDefinition<MaterializerConfig> Definition();

}  // namespace granary::materializer

#endif  // GRANARY_SERVICES_MATERIALIZER_MATERIALIZER_SERVICE_H_
