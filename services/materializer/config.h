// The materializer's configuration (besides the shared `server:` section).
//
//   materializer:
//     online_writer_threads: 1     # per replica; replicas share the durable consumers
//     offline_writer_threads: 1
//     max_deliveries: 5            # of a batch failing for good, before it is dead-lettered
//     ack_wait: 30s                # a batch not acknowledged by then goes to another replica
//     min_backoff: 100ms           # redelivery delay, doubling up to max_backoff
//     max_backoff: 10s
//     write_timeout: 5s            # one Redis write
//     dedupe_window: 10m           # of the GRANARY_PUSH stream, if this replica declares it
//     retention: 168h
//   registry: {address: 127.0.0.1:6570}
//   nats: {url: nats://127.0.0.1:4222}
//   redis: {address: 127.0.0.1:6379, user: materializer, password: {file: ...}}
//   offline_store: {address: 127.0.0.1:5432, database: granary, user: granary, ...}
#ifndef GRANARY_SERVICES_MATERIALIZER_CONFIG_H_
#define GRANARY_SERVICES_MATERIALIZER_CONFIG_H_

#include "absl/time/time.h"

#include "libs/bus/options.h"
#include "libs/config/reader.h"
#include "libs/pg/options.h"
#include "libs/redis/options.h"
#include "libs/registry_client/registry_client.h"
#include "services/materializer/push_consumer.h"

namespace granary::materializer {

struct MaterializerConfig {
  // The consumers; `durable` is filled in by the service.
  PushConsumerOptions online_writer;
  PushConsumerOptions offline_writer;
  absl::Duration write_timeout = absl::Seconds(5);
  absl::Duration dedupe_window = absl::Minutes(10);
  absl::Duration retention = absl::Hours(24 * 7);
  registry_client::RegistryClientOptions registry;
  // JetStream: pushed batches and materialization tasks.
  bus::NatsOptions nats;
  // The online store it writes.
  redis::RedisOptions redis;
  // The offline store it reads (and appends pushed rows to), plus job state.
  pg::PgOptions offline_store;
};

MaterializerConfig ReadMaterializerConfig(config::Reader& root);

}  // namespace granary::materializer

#endif  // GRANARY_SERVICES_MATERIALIZER_CONFIG_H_
