#include "services/ingestion/config.h"

namespace granary::ingestion {

IngestionConfig ReadIngestionConfig(config::Reader& root) {
  IngestionConfig c;
  c.nats = bus::ReadNatsOptions(root.Section("nats"));
  return c;
}

}  // namespace granary::ingestion
