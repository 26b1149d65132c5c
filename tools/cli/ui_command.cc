#include "tools/cli/ui_command.h"

#include <spawn.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <memory>

#include "absl/strings/str_cat.h"
#include <sys/wait.h>

extern char** environ;

namespace granary::cli {

bool OpenWithXdg(const std::string& url) {
  const char* display = std::getenv("DISPLAY");
  const char* wayland = std::getenv("WAYLAND_DISPLAY");
  if ((display == nullptr || *display == '\0') && (wayland == nullptr || *wayland == '\0')) {
    return false;  // no desktop to open a browser on (a server, a container, ssh)
  }
  pid_t pid = 0;
  const char* argv[] = {"xdg-open", url.c_str(), nullptr};
  if (posix_spawnp(&pid, "xdg-open", nullptr, nullptr, const_cast<char**>(argv), environ) != 0) {
    return false;
  }
  int status = 0;
  // xdg-open hands the URL to the browser and returns.
  return waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int RunUi(const UiCommandOptions& options, CommandIo io, const BrowserOpener& opener) {
  io.out << options.url << "\n";
  const bool opened = options.open && opener && opener(options.url);
  io.err << (opened ? "opened in your browser. " : "")
         << "Sign in with a bearer token, e.g. granary token --user you --roles reader "
            "(or your identity provider's sign-in, where the gateway offers one).\n";
  return 0;
}

void AddUiCommand(CLI::App& app, int* exit_code) {
  struct State {
    std::string url;
    bool no_open = false;
  };
  auto s = std::make_shared<State>();
  CLI::App* cmd =
      app.add_subcommand("ui", "Print the URL of the gateway's UI and open it in a browser");
  cmd->add_option("--url", s->url,
                  "The UI's URL (default: the endpoints file's ui, else the "
                  "gateway's host on port 6567)");
  cmd->add_flag("--no-open", s->no_open, "Only print the URL");
  cmd->callback([cmd, s, exit_code] {
    GlobalFlags globals = GlobalFlagsOf(cmd);
    EndpointFlags flags{.file = globals.endpoints};
    flags.overrides.gateway = globals.gateway;
    flags.overrides.ui = s->url;
    absl::StatusOr<Endpoints> endpoints = ResolveEndpoints(flags);
    if (!endpoints.ok()) return void(*exit_code = Usage("ui", endpoints.status().message()));
    *exit_code = RunUi({.url = endpoints->ui, .open = !s->no_open}, {std::cout, std::cerr, false},
                       OpenWithXdg);
  });
}

}  // namespace granary::cli
