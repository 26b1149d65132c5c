#include "services/registry/config.h"

namespace granary::registry {

RegistryConfig ReadRegistryConfig(config::Reader& root) {
  RegistryConfig c;
  c.postgres = pg::ReadPgOptions(root.Section("postgres"));
  c.nats = bus::ReadNatsOptions(root.Section("nats"));
  c.jetstream = bus::ReadJetStreamSettings(root.Section("jetstream"), c.nats);
  return c;
}

}  // namespace granary::registry
