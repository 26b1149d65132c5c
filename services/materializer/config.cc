#include "services/materializer/config.h"

namespace granary::materializer {

MaterializerConfig ReadMaterializerConfig(config::Reader& root) {
  MaterializerConfig c;
  c.nats = bus::ReadNatsOptions(root.Section("nats"));
  c.redis = redis::ReadRedisOptions(root.Section("redis"));
  c.offline_store = pg::ReadPgOptions(root.Section("offline_store"));
  return c;
}

}  // namespace granary::materializer
