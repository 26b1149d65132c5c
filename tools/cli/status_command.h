// `granary status`: the health of each service, one line each; exit 1 unless all are SERVING.
//
//   gateway       127.0.0.1:6565  SERVING      0.9 ms
//   serving       127.0.0.1:6571  NOT_SERVING  0.7 ms
//   ingestion     127.0.0.1:6572  UNREACHABLE  connection refused
#ifndef GRANARY_TOOLS_CLI_STATUS_COMMAND_H_
#define GRANARY_TOOLS_CLI_STATUS_COMMAND_H_

#include <ostream>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/time/time.h"

#include "tools/cli/endpoints.h"

namespace granary::cli {

struct StatusOptions {
  absl::Duration timeout = absl::Seconds(2);
  bool json = false;
};

// Writes the report to `out`; returns the process exit code.
int RunStatus(const Endpoints& endpoints, const StatusOptions& options, std::ostream& out);

// `granary health ADDRESS`: one process's state on one line; 0 when SERVING, else 1
// (NOT_SERVING, or UNREACHABLE with the reason).
int RunHealth(const std::string& address, absl::Duration timeout, std::ostream& out);

// Registers status and health on `app`; when they run they set *exit_code.
void AddStatusCommand(CLI::App& app, int* exit_code);

}  // namespace granary::cli

#endif  // GRANARY_TOOLS_CLI_STATUS_COMMAND_H_
