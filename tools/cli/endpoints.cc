#include "tools/cli/endpoints.h"

#include <cstdlib>

#include "libs/base/status_macros.h"
#include "libs/config/reader.h"

namespace granary::cli {

std::vector<std::pair<std::string, std::string>> Endpoints::All() const {
  return {{"gateway", gateway},
          {"registry", registry},
          {"serving", serving},
          {"ingestion", ingestion},
          {"materializer", materializer}};
}

absl::StatusOr<Endpoints> ResolveEndpoints(const EndpointFlags& flags) {
  Endpoints e;
  std::string file = flags.file;
  if (file.empty()) {
    if (const char* env = std::getenv("GRANARY_ENDPOINTS")) file = env;
  }
  if (!file.empty()) {
    ASSIGN_OR_RETURN(config::Reader root, config::Reader::FromFile(file));
    config::Reader section = root.Section("endpoints");
    e.gateway = section.Address("gateway", e.gateway);
    e.registry = section.Address("registry", e.registry);
    e.serving = section.Address("serving", e.serving);
    e.ingestion = section.Address("ingestion", e.ingestion);
    e.materializer = section.Address("materializer", e.materializer);
    RETURN_IF_ERROR(root.Finish());
  }
  const Endpoints& o = flags.overrides;
  if (!o.gateway.empty()) e.gateway = o.gateway;
  if (!o.registry.empty()) e.registry = o.registry;
  if (!o.serving.empty()) e.serving = o.serving;
  if (!o.ingestion.empty()) e.ingestion = o.ingestion;
  if (!o.materializer.empty()) e.materializer = o.materializer;
  return e;
}

}  // namespace granary::cli
