// The ingestion service's configuration (besides the shared `server:` section).
//
//   ingestion:
//     project: driver_stats          # of pushes that name none
//     projects: [driver_stats]       # projects accepted (default: the one above)
//     max_batch_rows: 10000          # rows one batch may carry
//     max_in_flight: 256             # batches of one PushStream awaiting JetStream at once
//     max_streams: 256               # PushStreams open at once; more are refused, to retry
//     max_bytes_in_flight: 256MiB    # what the whole process holds of pushes in flight
//     max_future_skew: 1h            # how far ahead of this clock an event time may be
//     publish_timeout: 5s            # JetStream must have stored a batch by then
//   jetstream: {replicas: 1, push_max_bytes: 1GiB, dedupe_window: 10m}   # libs/bus/streams.h
//   registry: {address: 127.0.0.1:6570}
//   nats: {url: nats://127.0.0.1:4222}
#ifndef GRANARY_SERVICES_INGESTION_CONFIG_H_
#define GRANARY_SERVICES_INGESTION_CONFIG_H_

#include <cstdint>

#include "absl/time/time.h"

#include "libs/bus/options.h"
#include "libs/bus/streams.h"
#include "libs/config/reader.h"
#include "libs/registry_client/registry_client.h"
#include "services/ingestion/ingestion_grpc.h"
#include "services/ingestion/pusher.h"

namespace granary::ingestion {

struct IngestionConfig {
  PusherOptions pusher;
  StreamLimits streams;
  int64_t max_bytes_in_flight = int64_t{256} << 20;
  absl::Duration publish_timeout = absl::Seconds(5);
  registry_client::RegistryClientOptions registry;
  // JetStream, where accepted batches are stored; also brings catalog changes at once.
  bus::NatsOptions nats;
  bus::JetStreamSettings jetstream;
};

IngestionConfig ReadIngestionConfig(config::Reader& root);

}  // namespace granary::ingestion

#endif  // GRANARY_SERVICES_INGESTION_CONFIG_H_
