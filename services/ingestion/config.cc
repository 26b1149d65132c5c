#include "services/ingestion/config.h"

namespace granary::ingestion {

IngestionConfig ReadIngestionConfig(config::Reader& root) {
  IngestionConfig c;
  config::Reader section = root.Section("ingestion");
  registry_client::ServedProjects served = registry_client::ReadServedProjects(section);
  c.pusher.default_project = served.default_project;
  c.pusher.projects = served.projects;
  c.pusher.max_batch_rows = static_cast<size_t>(section.Int("max_batch_rows", 10000, 1, 1'000'000));
  c.max_in_flight = static_cast<size_t>(section.Int("max_in_flight", 256, 1, 65536));
  c.publish_timeout = section.Duration("publish_timeout", c.publish_timeout,
                                       absl::Milliseconds(100), absl::Minutes(5));
  c.dedupe_window =
      section.Duration("dedupe_window", c.dedupe_window, absl::Seconds(1), absl::Hours(24));
  c.retention = section.Duration("retention", c.retention, absl::Minutes(1), absl::Hours(24 * 365));
  c.registry = registry_client::ReadRegistryClientOptions(root.Section("registry"));
  c.nats = bus::ReadNatsOptions(root.Section("nats"));
  return c;
}

}  // namespace granary::ingestion
