// `granary verify [-f deploy.yaml]`: checks a deployment's config against the real backends,
// logging in with each service's own credentials: each has the privileges it needs (serving's
// and the readers' no more), the gateway's token checks can work, no secret is written in
// clear. One PASS/WARN/FAIL line per check, each failure with its fix; exit 1 on any failure.
#ifndef GRANARY_TOOLS_CLI_VERIFY_COMMAND_H_
#define GRANARY_TOOLS_CLI_VERIFY_COMMAND_H_

#include <ostream>
#include <string>

#include "CLI/CLI.hpp"

#include "tools/cli/deploy_config.h"
#include "tools/cli/verify_checks.h"

namespace granary::cli {

// Every check of the config, in order: config, secrets, auth, redis, postgres, nats.
VerifyReport Verify(const DeployConfig& config);

// Reads the file, runs Verify and prints the report; returns the exit code.
int RunVerify(const std::string& path, std::ostream& out, std::ostream& err);

void AddVerifyCommand(CLI::App& app, int* exit_code);

}  // namespace granary::cli

#endif  // GRANARY_TOOLS_CLI_VERIFY_COMMAND_H_
