#include "services/ingestion/config.h"

namespace granary::ingestion {

IngestionConfig ReadIngestionConfig(config::Reader& root) {
  IngestionConfig c;
  c.project = root.String("project", "");
  c.nats = bus::ReadNatsOptions(root.Section("nats"));
  c.registry_address = root.Section("registry").Address("address", "127.0.0.1:6570");
  return c;
}

}  // namespace granary::ingestion
