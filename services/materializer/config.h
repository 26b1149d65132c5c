// The materializer's configuration (besides the shared `server:` section).
//
//   nats: {url: nats://127.0.0.1:4222}
//   redis: {address: 127.0.0.1:6379, user: materializer, password: {file: ...}}
//   offline_store: {address: 127.0.0.1:5432, database: granary, user: granary, ...}
#ifndef GRANARY_SERVICES_MATERIALIZER_CONFIG_H_
#define GRANARY_SERVICES_MATERIALIZER_CONFIG_H_

#include "libs/bus/options.h"
#include "libs/config/reader.h"
#include "libs/pg/options.h"
#include "libs/redis/options.h"

namespace granary::materializer {

struct MaterializerConfig {
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
