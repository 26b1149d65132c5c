// How to reach a Redis server, and the `redis:` config section that fills it.
//
//   redis:
//     address: 127.0.0.1:6379
//     user: serving              # an ACL user; empty means the default user
//     password: {file: /run/secrets/redis}
//     connect_timeout: 1s
//     command_timeout: 1s
//     pool_size: 4
#ifndef GRANARY_LIBS_REDIS_OPTIONS_H_
#define GRANARY_LIBS_REDIS_OPTIONS_H_

#include <string>

#include "absl/time/time.h"

#include "libs/config/reader.h"
#include "libs/config/secret.h"

namespace granary::redis {

struct RedisOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  // ACL user (Redis 6+); empty authenticates as the default user, with the password alone.
  std::string user;
  config::Secret password;
  absl::Duration connect_timeout = absl::Seconds(1);
  // Per command (or pipeline) socket timeout.
  absl::Duration command_timeout = absl::Seconds(1);
  // Connections the Client keeps open for concurrent callers.
  int pool_size = 4;
};

// Reads the section (e.g. root.Section("redis")); problems are recorded in the reader.
RedisOptions ReadRedisOptions(config::Reader section);

}  // namespace granary::redis

#endif  // GRANARY_LIBS_REDIS_OPTIONS_H_
