// The ingestion service's configuration (besides the shared `server:` section).
//
//   ingestion:
//     project: driver_stats          # of pushes that name none
//     projects: [driver_stats]       # projects accepted (default: the one above)
//     max_batch_rows: 10000          # rows one batch may carry
//     max_in_flight: 256             # batches of one PushStream awaiting JetStream at once
//     publish_timeout: 5s            # JetStream must have stored a batch by then
//     dedupe_window: 10m             # a batch id pushed again within it is stored once
//     retention: 168h                # how long JetStream keeps pushed batches
//   registry: {address: 127.0.0.1:6570}
//   nats: {url: nats://127.0.0.1:4222}
#ifndef GRANARY_SERVICES_INGESTION_CONFIG_H_
#define GRANARY_SERVICES_INGESTION_CONFIG_H_

#include "absl/time/time.h"

#include "libs/bus/options.h"
#include "libs/config/reader.h"
#include "libs/registry_client/registry_client.h"
#include "services/ingestion/pusher.h"

namespace granary::ingestion {

struct IngestionConfig {
  PusherOptions pusher;
  size_t max_in_flight = 256;
  absl::Duration publish_timeout = absl::Seconds(5);
  absl::Duration dedupe_window = absl::Minutes(10);
  absl::Duration retention = absl::Hours(24 * 7);
  registry_client::RegistryClientOptions registry;
  // JetStream, where accepted batches are stored; also brings catalog changes at once.
  bus::NatsOptions nats;
};

IngestionConfig ReadIngestionConfig(config::Reader& root);

}  // namespace granary::ingestion

#endif  // GRANARY_SERVICES_INGESTION_CONFIG_H_
