// `granary ui`: the URL of the gateway's UI (the local stack's unless the endpoints file or
// --url says otherwise), opened in a browser when one is available.
//
//   granary ui             # prints http://127.0.0.1:6567/ui/ and opens it
//   granary ui --no-open   # only prints it
#ifndef GRANARY_TOOLS_CLI_UI_COMMAND_H_
#define GRANARY_TOOLS_CLI_UI_COMMAND_H_

#include <functional>
#include <string>

#include "CLI/CLI.hpp"

#include "tools/cli/command.h"
#include "tools/cli/endpoints.h"

namespace granary::cli {

struct UiCommandOptions {
  // Resolved from --url, the endpoints file and the gateway's address.
  std::string url;
  bool open = true;
};

// Opens `url` in the user's browser; false when none can be started.
using BrowserOpener = std::function<bool(const std::string& url)>;

// xdg-open, when a display is set and it is installed.
bool OpenWithXdg(const std::string& url);

// Prints the URL and how to sign in; opens it with `opener` unless options.open is false.
// Returns 0.
int RunUi(const UiCommandOptions& options, CommandIo io, const BrowserOpener& opener);

// Registers ui on `app`; when it runs it sets *exit_code.
void AddUiCommand(CLI::App& app, int* exit_code);

}  // namespace granary::cli

#endif  // GRANARY_TOOLS_CLI_UI_COMMAND_H_
