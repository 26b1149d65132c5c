#include "libs/redis/options.h"

namespace granary::redis {

RedisOptions ReadRedisOptions(config::Reader section) {
  RedisOptions o;
  config::HostPort address = section.HostAndPort("address", "127.0.0.1:6379");
  o.host = address.host;
  o.port = address.port;
  o.user = section.String("user", "");
  o.password = section.SecretValue("password");
  o.connect_timeout = section.Duration("connect_timeout", o.connect_timeout, absl::Milliseconds(10),
                                       absl::Minutes(1));
  o.command_timeout = section.Duration("command_timeout", o.command_timeout, absl::Milliseconds(1),
                                       absl::Minutes(1));
  o.pool_size = static_cast<int>(section.Int("pool_size", o.pool_size, 1, 256));
  return o;
}

}  // namespace granary::redis
