// `granary init NAME`: a new feature repository in folder NAME: granary.yaml and an example
// definitions file to start from (an entity, a PostgreSQL source, a feature view and a
// feature service).
#ifndef GRANARY_TOOLS_CLI_INIT_COMMAND_H_
#define GRANARY_TOOLS_CLI_INIT_COMMAND_H_

#include <ostream>
#include <string>

#include "CLI/CLI.hpp"

namespace granary::cli {

// Creates `parent`/`name`; refuses a name that is not a project name or a folder that exists
// and is not empty. Returns the exit code.
int RunInit(const std::string& name, const std::string& parent, std::ostream& out,
            std::ostream& err);

// Registers init on `app`; when it runs it sets *exit_code.
void AddInitCommand(CLI::App& app, int* exit_code);

}  // namespace granary::cli

#endif  // GRANARY_TOOLS_CLI_INIT_COMMAND_H_
