// The ingestion service's configuration (besides the shared `server:` section).
//
//   nats: {url: nats://127.0.0.1:4222}
#ifndef GRANARY_SERVICES_INGESTION_CONFIG_H_
#define GRANARY_SERVICES_INGESTION_CONFIG_H_

#include "libs/bus/options.h"
#include "libs/config/reader.h"

namespace granary::ingestion {

struct IngestionConfig {
  // JetStream, where accepted batches are stored.
  bus::NatsOptions nats;
};

IngestionConfig ReadIngestionConfig(config::Reader& root);

}  // namespace granary::ingestion

#endif  // GRANARY_SERVICES_INGESTION_CONFIG_H_
