// The gateway's configuration (besides the shared `server:` section).
//
//   upstreams:
//     registry: 127.0.0.1:6570
//     serving: 127.0.0.1:6571
//     ingestion: 127.0.0.1:6572
//     materializer: 127.0.0.1:6573
#ifndef GRANARY_SERVICES_GATEWAY_CONFIG_H_
#define GRANARY_SERVICES_GATEWAY_CONFIG_H_

#include <string>

#include "libs/config/reader.h"

namespace granary::gateway {

struct Upstreams {
  std::string registry;
  std::string serving;
  std::string ingestion;
  std::string materializer;
};

struct GatewayConfig {
  Upstreams upstreams;
};

GatewayConfig ReadGatewayConfig(config::Reader& root);

}  // namespace granary::gateway

#endif  // GRANARY_SERVICES_GATEWAY_CONFIG_H_
