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
//     project: driver_stats        # of Materialize requests that name none (optional)
//     task_threads: 1              # materialization tasks run at once by this replica
//     task_attempts: 10            # of a task, before its job fails
//     task_min_backoff: 1s         # before a failed task runs again, doubling up to
//     task_max_backoff: 30s        # task_max_backoff
//     task_batch_rows: 2000        # rows read and written at a time
//     task_timeout: 0s             # the longest a task's read may run (0: no limit)
//     shards: 4                    # entity-hash shards per view, unless a request says
//     task_span: 0s                # cut each view's range into spans this long (0: one)
//     max_tasks: 10000             # per job
//     historical_timeout: 1h       # the longest a historical retrieval's query may run
//   jetstream: {ack_wait: 30s, ...} # shared with ingestion: libs/bus/streams.h
//   registry: {address: 127.0.0.1:6570}
//   nats: {url: nats://127.0.0.1:4222}
//   redis: {address: 127.0.0.1:6379, user: materializer, password: {file: ...}}
//   offline_store: {address: 127.0.0.1:5432, database: granary, user: granary_offline_reader, ...}
//   offline_store_writer: {address: ..., user: granary_offline_writer, ...}   # optional
#ifndef GRANARY_SERVICES_MATERIALIZER_CONFIG_H_
#define GRANARY_SERVICES_MATERIALIZER_CONFIG_H_

#include <optional>

#include "absl/time/time.h"

#include "libs/bus/options.h"
#include "libs/bus/streams.h"
#include "libs/config/reader.h"
#include "libs/pg/options.h"
#include "libs/redis/options.h"
#include "libs/registry_client/registry_client.h"
#include "services/materializer/historical.h"
#include "services/materializer/jobs.h"
#include "services/materializer/stream_worker.h"
#include "services/materializer/task_runner.h"

namespace granary::materializer {

struct MaterializerConfig {
  // The workers; their stream and durable are filled in by the service.
  StreamWorkerOptions online_writer;
  StreamWorkerOptions offline_writer;
  StreamWorkerOptions online_cleaner;
  StreamWorkerOptions task_runner;
  TaskRunnerOptions tasks;
  JobsOptions jobs;
  HistoricalOptions historical;
  absl::Duration write_timeout = absl::Seconds(5);
  absl::Duration trim_interval = absl::Seconds(1);
  registry_client::RegistryClientOptions registry;
  // JetStream: pushed batches, cleanups and dead letters.
  bus::NatsOptions nats;
  bus::JetStreamSettings jetstream;
  // The online store it writes.
  redis::RedisOptions redis;
  // The offline store it reads: materialization tasks, job planning, historical retrieval.
  // The reader role of deploy/postgres/roles.sql (SELECT, and TEMP for retrieval's entity
  // tables) is enough.
  pg::PgOptions offline_store;
  // Where it writes: pushed rows appended to offline tables, job state (schema jobs) and the
  // offline writer's ledger (schema granary_ingest). The writer role; when absent, the
  // offline_store connection writes too.
  std::optional<pg::PgOptions> offline_store_writer;
};

MaterializerConfig ReadMaterializerConfig(config::Reader& root);

}  // namespace granary::materializer

#endif  // GRANARY_SERVICES_MATERIALIZER_CONFIG_H_
