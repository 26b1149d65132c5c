// granary: the command line for Granary. `granary --help` lists the commands.
#include <iostream>

#include "CLI/CLI.hpp"
#include "absl/time/time.h"

#include "libs/base/version.h"
#include "tools/cli/endpoints.h"
#include "tools/cli/status_command.h"

namespace {

// Exit codes: 0 success, 1 the command ran and found a problem, 2 bad usage.
constexpr int kExitUsage = 2;

void AddEndpointFlags(CLI::App& cmd, granary::cli::EndpointFlags& flags) {
  cmd.add_option("--endpoints", flags.file,
                 "YAML file with an `endpoints:` section (default: $GRANARY_ENDPOINTS)");
  cmd.add_option("--gateway", flags.overrides.gateway, "gateway address host:port");
  cmd.add_option("--registry", flags.overrides.registry, "registry address host:port");
  cmd.add_option("--serving", flags.overrides.serving, "serving address host:port");
  cmd.add_option("--ingestion", flags.overrides.ingestion, "ingestion address host:port");
  cmd.add_option("--materializer", flags.overrides.materializer, "materializer address host:port");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"granary: the command line for the Granary feature store"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("granary ") + granary::base::kVersion);

  CLI::App* version = app.add_subcommand("version", "Print the CLI's version");

  granary::cli::EndpointFlags endpoint_flags;
  granary::cli::StatusOptions status_options;
  std::string timeout = "2s";
  CLI::App* status = app.add_subcommand(
      "status", "Health of each service, one line each; exit 1 unless all are SERVING");
  AddEndpointFlags(*status, endpoint_flags);
  status->add_option("--timeout", timeout, "How long to wait for each service (e.g. 2s)");
  status->add_flag("--json", status_options.json, "Print JSON for scripts");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" that exit 0; real usage errors exit 2.
    return app.exit(e) == 0 ? 0 : kExitUsage;
  }

  if (version->parsed()) {
    std::cout << "granary " << granary::base::kVersion << "\n";
    return 0;
  }
  if (status->parsed()) {
    if (!absl::ParseDuration(timeout, &status_options.timeout)) {
      std::cerr << "granary status: --timeout: expected a duration such as 2s\n";
      return kExitUsage;
    }
    absl::StatusOr<granary::cli::Endpoints> endpoints =
        granary::cli::ResolveEndpoints(endpoint_flags);
    if (!endpoints.ok()) {
      std::cerr << "granary status: " << endpoints.status().message() << "\n";
      return kExitUsage;
    }
    return granary::cli::RunStatus(*endpoints, status_options, std::cout);
  }
  return kExitUsage;
}
