#include "services/materializer/config.h"

namespace granary::materializer {

MaterializerConfig ReadMaterializerConfig(config::Reader& root) {
  MaterializerConfig c;
  c.project = root.String("project", "");
  c.nats = bus::ReadNatsOptions(root.Section("nats"));
  c.redis = redis::ReadRedisOptions(root.Section("redis"));
  c.offline_store = pg::ReadPgOptions(root.Section("offline_store"));
  c.registry_address = root.Section("registry").Address("address", "127.0.0.1:6570");
  return c;
}

}  // namespace granary::materializer
