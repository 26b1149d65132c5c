#include "services/serving/config.h"

namespace granary::serving {

ServingConfig ReadServingConfig(config::Reader& root) {
  ServingConfig c;
  c.redis = redis::ReadRedisOptions(root.Section("redis"));
  return c;
}

}  // namespace granary::serving
