// The serving service's configuration (besides the shared `server:` section).
//
//   serving:
//     project: driver_stats        # of requests that name none
//     projects: [driver_stats]     # served projects (default: the one above)
//     max_entity_rows: 1000
//     max_request_time: 1s         # the most a request may take, whatever its deadline
//     grpc_threads: 1              # completion-queue threads (default: half the usable CPUs)
//     read_connections: 1          # pipelined Redis connections, one I/O thread each
//                                  # (default: half the usable CPUs)
//     read_on_request_thread: true # an idle connection is read on the gRPC thread (no
//                                  # wake-up of the I/O thread)
//     request_thread_wait: 10ms    # how long it waits for Redis there before the I/O
//                                  # thread takes the rest of the batch
//     compute_threads: 2           # on-demand features, off the I/O threads (default: the
//                                  # usable CPUs; 0: on the I/O threads)
//     whole_hash_share: 0.75       # a hash is read whole (HGETALL) when a request asks for
//                                  # at least this share of its fields (0: never)
//
// "Usable CPUs": the affinity mask capped by the cgroup's CPU quota (libs/base/cpus.h), so a
// pod limited to 2 CPUs on a 64-core node runs 1 + 1 threads, not 32 + 32.
//   registry: {address: 127.0.0.1:6570}
//   nats: {url: nats://127.0.0.1:4222}   # optional: catalog changes arrive at once
//   redis: {address: 127.0.0.1:6379, user: serving, password: {file: ...}}
#ifndef GRANARY_SERVICES_SERVING_CONFIG_H_
#define GRANARY_SERVICES_SERVING_CONFIG_H_

#include <optional>

#include "libs/bus/options.h"
#include "libs/config/reader.h"
#include "libs/onlinestore/read_pipeline.h"
#include "libs/redis/options.h"
#include "libs/registry_client/registry_client.h"
#include "services/serving/online_reader.h"

namespace granary::serving {

struct ServingConfig {
  OnlineReaderOptions reader;
  int grpc_threads = 1;
  int read_connections = 1;
  bool read_on_request_thread = true;
  absl::Duration request_thread_wait = onlinestore::kDefaultCallerWait;
  registry_client::RegistryClientOptions registry;
  // Without it, catalog changes are seen on the registry poll only.
  std::optional<bus::NatsOptions> nats;
  redis::RedisOptions redis;
};

ServingConfig ReadServingConfig(config::Reader& root);

}  // namespace granary::serving

#endif  // GRANARY_SERVICES_SERVING_CONFIG_H_
