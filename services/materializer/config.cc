#include "services/materializer/config.h"

namespace granary::materializer {

MaterializerConfig ReadMaterializerConfig(config::Reader& root) {
  MaterializerConfig c;
  config::Reader section = root.Section("materializer");
  PushConsumerOptions consumer;
  consumer.max_deliveries = static_cast<int>(section.Int("max_deliveries", 5, 1, 1000));
  consumer.ack_wait =
      section.Duration("ack_wait", consumer.ack_wait, absl::Seconds(1), absl::Hours(1));
  consumer.min_backoff = section.Duration("min_backoff", consumer.min_backoff,
                                          absl::Milliseconds(1), absl::Minutes(1));
  consumer.max_backoff =
      section.Duration("max_backoff", consumer.max_backoff, consumer.min_backoff, absl::Hours(1));
  c.online_writer = consumer;
  c.online_writer.durable = "online-writer";
  c.online_writer.threads = static_cast<int>(section.Int("online_writer_threads", 1, 0, 64));
  c.offline_writer = consumer;
  c.offline_writer.durable = "offline-writer";
  c.offline_writer.threads = static_cast<int>(section.Int("offline_writer_threads", 1, 0, 64));
  c.write_timeout =
      section.Duration("write_timeout", c.write_timeout, absl::Milliseconds(10), absl::Minutes(5));
  c.dedupe_window =
      section.Duration("dedupe_window", c.dedupe_window, absl::Seconds(1), absl::Hours(24));
  c.retention = section.Duration("retention", c.retention, absl::Minutes(1), absl::Hours(24 * 365));
  c.registry = registry_client::ReadRegistryClientOptions(root.Section("registry"));
  c.nats = bus::ReadNatsOptions(root.Section("nats"));
  c.redis = redis::ReadRedisOptions(root.Section("redis"));
  c.offline_store = pg::ReadPgOptions(root.Section("offline_store"));
  return c;
}

}  // namespace granary::materializer
