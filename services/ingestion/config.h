// The ingestion service's configuration (besides the shared `server:` section).
//
//   project: driver_stats        # used when a push names no project
//   nats: {url: nats://127.0.0.1:4222}
//   registry: {address: 127.0.0.1:6570}
#ifndef GRANARY_SERVICES_INGESTION_CONFIG_H_
#define GRANARY_SERVICES_INGESTION_CONFIG_H_

#include <string>

#include "libs/bus/options.h"
#include "libs/config/reader.h"

namespace granary::ingestion {

struct IngestionConfig {
  // Project for pushes that do not name one; empty means pushes must.
  std::string project;
  // JetStream, where accepted batches are stored.
  bus::NatsOptions nats;
  // The registry, for the schema pushes are validated against.
  std::string registry_address;
};

IngestionConfig ReadIngestionConfig(config::Reader& root);

}  // namespace granary::ingestion

#endif  // GRANARY_SERVICES_INGESTION_CONFIG_H_
