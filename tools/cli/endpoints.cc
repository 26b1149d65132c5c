#include "tools/cli/endpoints.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"

#include "libs/base/status_macros.h"
#include "libs/config/reader.h"

namespace granary::cli {
namespace {

// The first non-empty of the layers, highest first.
std::string First(std::initializer_list<const std::string*> layers) {
  for (const std::string* s : layers) {
    if (!s->empty()) return *s;
  }
  return "";
}

}  // namespace

std::vector<std::pair<std::string, std::string>> Endpoints::All() const {
  return {{"gateway", gateway},
          {"registry", registry},
          {"serving", serving},
          {"ingestion", ingestion},
          {"materializer", materializer}};
}

absl::StatusOr<Endpoints> ResolveEndpoints(const EndpointFlags& flags, const Endpoints& repo) {
  Endpoints from_file;
  std::string file = flags.file;
  if (file.empty()) {
    if (const char* env = std::getenv("GRANARY_ENDPOINTS")) file = env;
  }
  if (!file.empty()) {
    ASSIGN_OR_RETURN(config::Reader root, config::Reader::FromFile(file));
    config::Reader section = root.Section("endpoints");
    from_file.gateway = section.Address("gateway", "");
    from_file.registry = section.Address("registry", "");
    from_file.serving = section.Address("serving", "");
    from_file.ingestion = section.Address("ingestion", "");
    from_file.materializer = section.Address("materializer", "");
    from_file.ui = section.String("ui", "");
    RETURN_IF_ERROR(root.Finish());
  }
  const Endpoints& o = flags.overrides;
  const std::string fallback = kDefaultGateway;
  Endpoints e;
  e.gateway = First({&o.gateway, &from_file.gateway, &repo.gateway, &fallback});
  e.registry = First({&o.registry, &from_file.registry, &repo.registry, &e.gateway});
  e.serving = First({&o.serving, &from_file.serving, &repo.serving, &e.gateway});
  e.ingestion = First({&o.ingestion, &from_file.ingestion, &repo.ingestion, &e.gateway});
  e.materializer =
      First({&o.materializer, &from_file.materializer, &repo.materializer, &e.gateway});
  // Beside the gateway's gRPC port, on its browsers' port (6567: browsers refuse Feast's HTTP
  // port 6566) unless the file says.
  const std::string derived =
      absl::StrCat("http://", e.gateway.substr(0, e.gateway.rfind(':')), ":6567/ui/");
  e.ui = First({&o.ui, &from_file.ui, &derived});
  return e;
}

}  // namespace granary::cli
