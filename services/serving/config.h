// The serving service's configuration (besides the shared `server:` section).
//
//   project: driver_stats        # used when a request names no project (Feast clients)
//   redis: {address: 127.0.0.1:6379, user: serving, password: {file: ...}}
//   registry: {address: 127.0.0.1:6570}
#ifndef GRANARY_SERVICES_SERVING_CONFIG_H_
#define GRANARY_SERVICES_SERVING_CONFIG_H_

#include <string>

#include "libs/config/reader.h"
#include "libs/redis/options.h"

namespace granary::serving {

struct ServingConfig {
  // Project for requests that do not name one; empty means requests must.
  std::string project;
  redis::RedisOptions redis;
  // The registry, for the catalog snapshot.
  std::string registry_address;
};

ServingConfig ReadServingConfig(config::Reader& root);

}  // namespace granary::serving

#endif  // GRANARY_SERVICES_SERVING_CONFIG_H_
