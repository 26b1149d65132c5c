#include "services/ingestion/config.h"

namespace granary::ingestion {

IngestionConfig ReadIngestionConfig(config::Reader& root) {
  IngestionConfig c;
  config::Reader section = root.Section("ingestion");
  registry_client::ServedProjects served = registry_client::ReadServedProjects(section);
  c.pusher.default_project = served.default_project;
  c.pusher.projects = served.projects;
  c.pusher.max_batch_rows = static_cast<size_t>(section.Int("max_batch_rows", 10000, 1, 1'000'000));
  c.pusher.max_future_skew = section.Duration("max_future_skew", c.pusher.max_future_skew,
                                              absl::ZeroDuration(), absl::Hours(24 * 365));
  c.streams.max_in_flight = static_cast<size_t>(section.Int("max_in_flight", 256, 1, 65536));
  c.streams.max_streams = static_cast<int>(section.Int("max_streams", 256, 1, 100'000));
  c.max_bytes_in_flight = section.Bytes("max_bytes_in_flight", c.max_bytes_in_flight,
                                        int64_t{1} << 20, int64_t{64} << 30);
  c.publish_timeout = section.Duration("publish_timeout", c.publish_timeout,
                                       absl::Milliseconds(100), absl::Minutes(5));
  c.registry = registry_client::ReadRegistryClientOptions(root.Section("registry"));
  c.nats = bus::ReadNatsOptions(root.Section("nats"));
  c.jetstream = bus::ReadJetStreamSettings(root.Section("jetstream"), c.nats);
  return c;
}

}  // namespace granary::ingestion
