// granary: the command line for Granary. `granary --help` lists the commands. Each verb group
// registers its own subcommands and runs from its own callback (command.h).
#include <iostream>
#include <string>

#include "CLI/CLI.hpp"

#include "libs/base/version.h"
#include "tools/cli/command.h"
#include "tools/cli/deadletter_commands.h"
#include "tools/cli/deploy_command.h"
#include "tools/cli/historical_command.h"
#include "tools/cli/init_command.h"
#include "tools/cli/jobs_commands.h"
#include "tools/cli/push_command.h"
#include "tools/cli/registry_commands.h"
#include "tools/cli/serving_commands.h"
#include "tools/cli/status_command.h"
#include "tools/cli/token_command.h"
#include "tools/cli/ui_command.h"
#include "tools/cli/verify_command.h"

namespace granary::cli {

int Main(int argc, char** argv) {
  CLI::App app{"granary: the command line for the Granary feature store"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("granary ") + base::kVersion);

  // Before the verbs, which inherit that the global flags may follow them.
  AddGlobalFlags(app);

  int exit_code = -1;
  app.add_subcommand("version", "Print the CLI's version")->callback([&exit_code] {
    std::cout << "granary " << base::kVersion << "\n";
    exit_code = 0;
  });
  AddStatusCommand(app, &exit_code);
  AddInitCommand(app, &exit_code);
  AddRegistryCommands(app, &exit_code);
  AddServingCommands(app, &exit_code);
  AddPushCommand(app, &exit_code);
  AddDeadLetterCommands(app, &exit_code);
  AddJobCommands(app, &exit_code);
  AddHistoricalCommand(app, &exit_code);
  AddTokenCommand(app, &exit_code);
  AddUiCommand(app, &exit_code);
  AddVerifyCommand(app, &exit_code);
  AddDeployCommand(app, &exit_code);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" that exit 0; real usage errors exit 2.
    return app.exit(e) == 0 ? 0 : kExitUsage;
  }
  // Every verb sets the code; a group without a verb of its own was refused by CLI11 above.
  return exit_code >= 0 ? exit_code : kExitUsage;
}

}  // namespace granary::cli

int main(int argc, char** argv) { return granary::cli::Main(argc, argv); }
