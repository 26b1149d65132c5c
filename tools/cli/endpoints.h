// Where the CLI finds the services. Every call goes to the gateway, which forwards it to its
// service, unless a service is named at an address of its own. Each address comes from, first
// found: its command-line flag (--serving ADDR), the endpoints file (--endpoints FILE, else
// $GRANARY_ENDPOINTS), granary.yaml (`serving_endpoint`), and then the gateway's address, which
// comes the same way (--gateway, the file's `gateway`, granary.yaml's `endpoint`) or is
// 127.0.0.1:6565. The endpoints file is YAML:
//
//   endpoints:
//     gateway: 127.0.0.1:6565
//     registry: 127.0.0.1:6570     # optional: this one straight to its service
//     ui: http://127.0.0.1:6567/ui/   # optional: the gateway's UI (`granary ui`)
//
// `tools/dev up` writes one to .granary/endpoints.yaml.
#ifndef GRANARY_TOOLS_CLI_ENDPOINTS_H_
#define GRANARY_TOOLS_CLI_ENDPOINTS_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace granary::cli {

inline constexpr char kDefaultGateway[] = "127.0.0.1:6565";

// host:port of each service; empty where not given (inputs), filled in (results).
struct Endpoints {
  std::string gateway;
  std::string registry;
  std::string serving;
  std::string ingestion;
  std::string materializer;

  // (name, address) in a fixed order, for listing.
  std::vector<std::pair<std::string, std::string>> All() const;

  // The UI's URL; resolved from the endpoints file's `ui`, else the gateway's host on its
  // browsers' port (6567). Not one of All(): it is no gRPC service.
  std::string ui;
};

// Command-line overrides; empty fields are not set.
struct EndpointFlags {
  // The endpoints file; empty: $GRANARY_ENDPOINTS, if set.
  std::string file;
  Endpoints overrides;
};

// Every address filled in from `flags`, the endpoints file, `repo` (granary.yaml's) and the
// default gateway, as above. INVALID_ARGUMENT naming the file and key for a bad endpoints file,
// NOT_FOUND for a missing one.
absl::StatusOr<Endpoints> ResolveEndpoints(const EndpointFlags& flags, const Endpoints& repo = {});

}  // namespace granary::cli

#endif  // GRANARY_TOOLS_CLI_ENDPOINTS_H_
