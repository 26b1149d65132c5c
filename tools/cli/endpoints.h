// Where the CLI finds the five services. Each address comes from, in order: its command-line
// flag (--serving ADDR), the endpoints file (--endpoints FILE, else $GRANARY_ENDPOINTS), and
// the default local port. The endpoints file is YAML:
//
//   endpoints:
//     registry: 127.0.0.1:6570
//     serving: 127.0.0.1:6571
//
// `tools/dev up` writes one to .granary/endpoints.yaml.
#ifndef GRANARY_TOOLS_CLI_ENDPOINTS_H_
#define GRANARY_TOOLS_CLI_ENDPOINTS_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace granary::cli {

struct Endpoints {
  std::string gateway = "127.0.0.1:6565";
  std::string registry = "127.0.0.1:6570";
  std::string serving = "127.0.0.1:6571";
  std::string ingestion = "127.0.0.1:6572";
  std::string materializer = "127.0.0.1:6573";

  // (name, address) in a fixed order, for listing.
  std::vector<std::pair<std::string, std::string>> All() const;
};

// Command-line overrides; empty fields are not set.
struct EndpointFlags {
  std::string file;
  Endpoints overrides{"", "", "", "", ""};
};

// INVALID_ARGUMENT naming the file and key for a bad endpoints file.
absl::StatusOr<Endpoints> ResolveEndpoints(const EndpointFlags& flags);

}  // namespace granary::cli

#endif  // GRANARY_TOOLS_CLI_ENDPOINTS_H_
