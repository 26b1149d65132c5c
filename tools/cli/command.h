// What the CLI's verb groups share. Each group lives in its own file and registers its verbs
// on the app with an Add...Commands(app, &exit_code) function; the verb that runs sets the exit
// code from its CLI11 callback. Exit codes: 0 success, 1 the command ran and failed (the reason
// on stderr), 2 bad usage.
//
//   int exit_code = -1;
//   AddGlobalFlags(app);
//   AddRegistryCommands(app, &exit_code);
//   app.parse(argc, argv);
//
// A verb reaches the services through ResolveTargets: the addresses of endpoints.h and the
// bearer token of credentials.h, from its flags, the global ones and granary.yaml.
#ifndef GRANARY_TOOLS_CLI_COMMAND_H_
#define GRANARY_TOOLS_CLI_COMMAND_H_

#include <ostream>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "tools/cli/channel.h"
#include "tools/cli/endpoints.h"
#include "tools/cli/repo_loader.h"

namespace granary::cli {

inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// Where a verb writes, and whether for scripts.
struct CommandIo {
  std::ostream& out;
  std::ostream& err;
  bool json = false;
};

// The flags every verb takes: options of the app itself, given before or after the verb.
struct GlobalFlags {
  // --token: the bearer token (else $GRANARY_TOKEN, granary.yaml, .granary/token).
  std::string token;
  // --endpoints: the endpoints file (else $GRANARY_ENDPOINTS).
  std::string endpoints;
  // --gateway: where calls go (else the endpoints file, granary.yaml, 127.0.0.1:6565).
  std::string gateway;
};

// Adds --token, --endpoints and --gateway to `app` and lets every verb's flags be followed by
// them. Call it before adding the verbs (they inherit that).
void AddGlobalFlags(CLI::App& app);
// Their values, read from the app that `cmd` (a verb) belongs to.
GlobalFlags GlobalFlagsOf(const CLI::App* cmd);

// Each service a verb may call, with the token its calls carry.
struct Targets {
  Target registry;
  Target serving;
  Target ingestion;
  Target materializer;
};

// The verb's own address flags (`verb`: empty where not given) over the global flags, the
// endpoints file and `repo`'s granary.yaml, and the token (credentials.h). The error names the
// file, key or variable at fault (never a token).
absl::StatusOr<Targets> ResolveTargets(const GlobalFlags& globals, const Endpoints& verb,
                                       const RepoConfig& repo);

// The repository, registry and project flags most verbs take.
struct RepoFlags {
  std::string repo = ".";
  std::string registry;
  std::string project;
  bool json = false;
};

// --repo, --endpoint (the registry), --json, and --project unless the verb reads the
// repository's definitions (which name the project).
void AddRepoFlags(CLI::App* cmd, RepoFlags& flags, bool reads_definitions = false);

// granary.yaml in `repo`, or the defaults (with `dir` set) when there is none; an error only
// when it is there and cannot be read. Flags win over both.
absl::StatusOr<RepoConfig> RepoDefaults(const std::string& repo);
// `flag` when set, else `fallback`.
inline std::string Either(const std::string& flag, const std::string& fallback) {
  return flag.empty() ? fallback : flag;
}

// "granary <verb>: <message>" on stderr; returns kExitUsage.
int Usage(absl::string_view verb, absl::string_view message);
// "granary <verb>: <message>" on stderr; returns kExitFailure.
int Failure(absl::string_view verb, absl::string_view message);

// Who runs the command, for the registry's history ($USER, else the account name).
std::string Caller();

}  // namespace granary::cli

#endif  // GRANARY_TOOLS_CLI_COMMAND_H_
