// The serving service's configuration (besides the shared `server:` section).
//
//   redis: {address: 127.0.0.1:6379, user: serving, password: {file: ...}}
#ifndef GRANARY_SERVICES_SERVING_CONFIG_H_
#define GRANARY_SERVICES_SERVING_CONFIG_H_

#include "libs/config/reader.h"
#include "libs/redis/options.h"

namespace granary::serving {

struct ServingConfig {
  redis::RedisOptions redis;
};

ServingConfig ReadServingConfig(config::Reader& root);

}  // namespace granary::serving

#endif  // GRANARY_SERVICES_SERVING_CONFIG_H_
