#include "services/materializer/config.h"

namespace granary::materializer {

MaterializerConfig ReadMaterializerConfig(config::Reader& root) {
  MaterializerConfig c;
  config::Reader section = root.Section("materializer");
  c.nats = bus::ReadNatsOptions(root.Section("nats"));
  c.jetstream = bus::ReadJetStreamSettings(root.Section("jetstream"), c.nats);
  StreamWorkerOptions worker;
  worker.ack_wait = c.jetstream.ack_wait;
  worker.max_deliveries = static_cast<int>(section.Int("max_deliveries", 5, 1, 1000));
  worker.min_backoff =
      section.Duration("min_backoff", worker.min_backoff, absl::Milliseconds(1), absl::Minutes(1));
  worker.max_backoff =
      section.Duration("max_backoff", worker.max_backoff, worker.min_backoff, absl::Hours(1));
  worker.stall_after =
      section.Duration("stall_after", worker.stall_after, absl::Seconds(1), absl::Hours(24));
  c.online_writer = worker;
  c.online_writer.stream = bus::kPushStream;
  c.online_writer.durable = bus::kOnlineWriter;
  c.online_writer.threads = static_cast<int>(section.Int("online_writer_threads", 1, 0, 64));
  c.offline_writer = worker;
  c.offline_writer.stream = bus::kPushStream;
  c.offline_writer.durable = bus::kOfflineWriter;
  c.offline_writer.threads = static_cast<int>(section.Int("offline_writer_threads", 1, 0, 64));
  c.online_cleaner = worker;
  c.online_cleaner.stream = bus::kCleanupStream;
  c.online_cleaner.durable = bus::kOnlineCleaner;
  c.online_cleaner.fetch_batch = 1;  // one removal at a time, each kept alive as it goes
  c.write_timeout =
      section.Duration("write_timeout", c.write_timeout, absl::Milliseconds(10), absl::Minutes(5));
  c.trim_interval =
      section.Duration("trim_interval", c.trim_interval, absl::Milliseconds(10), absl::Minutes(10));
  c.task_runner = worker;
  c.task_runner.stream = bus::kTaskStream;
  c.task_runner.durable = bus::kTaskRunner;
  c.task_runner.fetch_batch = 1;  // a task at a time: tasks are long, others take the rest
  c.task_runner.threads = static_cast<int>(section.Int("task_threads", 1, 0, 64));
  c.task_runner.min_backoff = section.Duration("task_min_backoff", absl::Seconds(1),
                                               absl::Milliseconds(1), absl::Minutes(10));
  c.task_runner.max_backoff = section.Duration("task_max_backoff", absl::Seconds(30),
                                               c.task_runner.min_backoff, absl::Hours(1));
  c.tasks.max_attempts = static_cast<int>(section.Int("task_attempts", 10, 1, 1000));
  c.tasks.batch_rows = static_cast<size_t>(section.Int("task_batch_rows", 2000, 1, 100000));
  c.tasks.write_timeout = c.write_timeout;
  c.tasks.task_timeout =
      section.Duration("task_timeout", absl::ZeroDuration(), absl::ZeroDuration(), absl::Hours(48));
  // Three chances to keep a task alive before another replica would take it.
  c.tasks.keep_alive_every = c.jetstream.ack_wait / 3;
  c.jobs.default_project = section.String("project", "");
  c.jobs.plan.shards = static_cast<int>(section.Int("shards", 4, 1, 1024));
  c.jobs.plan.task_span = section.Duration("task_span", absl::ZeroDuration(), absl::ZeroDuration(),
                                           absl::Hours(24 * 366 * 100));
  c.jobs.plan.max_tasks = static_cast<int>(section.Int("max_tasks", 10000, 1, 1000000));
  c.historical.default_project = c.jobs.default_project;
  c.historical.statement_timeout =
      section.Duration("historical_timeout", absl::Hours(1), absl::Seconds(1), absl::Hours(48));
  c.registry = registry_client::ReadRegistryClientOptions(root.Section("registry"));
  c.redis = redis::ReadRedisOptions(root.Section("redis"));
  c.offline_store = pg::ReadPgOptions(root.Section("offline_store"));
  // Without a writer's connection of its own, the one connection reads and writes (a
  // single-role deployment, as in tests); with one, offline_store needs only SELECT.
  if (root.Has("offline_store_writer")) {
    c.offline_store_writer = pg::ReadPgOptions(root.Section("offline_store_writer"));
  }
  return c;
}

}  // namespace granary::materializer
