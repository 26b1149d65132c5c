#include "services/gateway/config.h"

namespace granary::gateway {

GatewayConfig ReadGatewayConfig(config::Reader& root) {
  GatewayConfig c;
  config::Reader up = root.Section("upstreams");
  c.upstreams.registry = up.Address("registry", "127.0.0.1:6570");
  c.upstreams.serving = up.Address("serving", "127.0.0.1:6571");
  c.upstreams.ingestion = up.Address("ingestion", "127.0.0.1:6572");
  c.upstreams.materializer = up.Address("materializer", "127.0.0.1:6573");
  return c;
}

}  // namespace granary::gateway
