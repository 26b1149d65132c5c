// The ingestion service: durable push through NATS JetStream (README.md).
#ifndef GRANARY_SERVICES_INGESTION_INGESTION_SERVICE_H_
#define GRANARY_SERVICES_INGESTION_INGESTION_SERVICE_H_

#include "libs/server/run_service.h"
#include "services/ingestion/config.h"

namespace granary::ingestion {

server::ServiceDefinition<IngestionConfig> Definition();

}  // namespace granary::ingestion

#endif  // GRANARY_SERVICES_INGESTION_INGESTION_SERVICE_H_
