#include "services/serving/config.h"

namespace granary::serving {

ServingConfig ReadServingConfig(config::Reader& root) {
  ServingConfig c;
  c.project = root.String("project", "");
  c.redis = redis::ReadRedisOptions(root.Section("redis"));
  c.registry_address = root.Section("registry").Address("address", "127.0.0.1:6570");
  return c;
}

}  // namespace granary::serving
