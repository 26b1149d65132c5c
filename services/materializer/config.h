// The materializer's configuration (besides the shared `server:` section).
//
//   materializer:
//     online_writer_threads: 1     # per replica; replicas share the durable consumers
//     offline_writer_threads: 1
//     max_deliveries: 5            # of a message that can never succeed, before it is
//                                  # dead-lettered
//     min_backoff: 100ms           # redelivery delay, doubling up to max_backoff
//     max_backoff: 10s
//     stall_after: 30s             # failing this long without a success: stalled (health)
//     write_timeout: 5s            # one Redis write (one view's batches of a run, together)
//     trim_interval: 1s            # how often GRANARY_PUSH loses what both writers acknowledged
//   jetstream: {ack_wait: 30s, ...} # shared with ingestion: libs/bus/streams.h
//   registry: {address: 127.0.0.1:6570}
//   nats: {url: nats://127.0.0.1:4222}
//   redis: {address: 127.0.0.1:6379, user: materializer, password: {file: ...}}
//   offline_store: {address: 127.0.0.1:5432, database: granary, user: granary, ...}
#ifndef GRANARY_SERVICES_MATERIALIZER_CONFIG_H_
#define GRANARY_SERVICES_MATERIALIZER_CONFIG_H_

#include "absl/time/time.h"

#include "libs/bus/options.h"
#include "libs/bus/streams.h"
#include "libs/config/reader.h"
#include "libs/pg/options.h"
#include "libs/redis/options.h"
#include "libs/registry_client/registry_client.h"
#include "services/materializer/stream_worker.h"

namespace granary::materializer {

struct MaterializerConfig {
  // The workers; their stream and durable are filled in by the service.
  StreamWorkerOptions online_writer;
  StreamWorkerOptions offline_writer;
  StreamWorkerOptions online_cleaner;
  absl::Duration write_timeout = absl::Seconds(5);
  absl::Duration trim_interval = absl::Seconds(1);
  registry_client::RegistryClientOptions registry;
  // JetStream: pushed batches, cleanups and dead letters.
  bus::NatsOptions nats;
  bus::JetStreamSettings jetstream;
  // The online store it writes.
  redis::RedisOptions redis;
  // The offline store it reads (and appends pushed rows to), plus job state.
  pg::PgOptions offline_store;
};

MaterializerConfig ReadMaterializerConfig(config::Reader& root);

}  // namespace granary::materializer

#endif  // GRANARY_SERVICES_MATERIALIZER_CONFIG_H_
