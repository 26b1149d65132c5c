// The CLI's registry verbs (Feast's): plan, apply, list, describe, delete, registry-dump and
// history. Each writes for a person (or JSON for scripts) and returns the exit code: 0 done,
// 1 failed (the reason written to the error stream).
//
//   RegistryCommands commands(registry, caller, {std::cout, std::cerr, /*json=*/false});
//   return commands.Apply(repo, /*allow_breaking=*/false, "");
#ifndef GRANARY_TOOLS_CLI_REGISTRY_COMMANDS_H_
#define GRANARY_TOOLS_CLI_REGISTRY_COMMANDS_H_

#include <map>
#include <memory>
#include <ostream>
#include <string>

#include "CLI/CLI.hpp"
#include "granary/registry/v1/registry_service.grpc.pb.h"

#include "libs/catalog/object_kinds.h"
#include "tools/cli/channel.h"
#include "tools/cli/command.h"
#include "tools/cli/repo_loader.h"

namespace granary::cli {

// Registers plan, apply, list, describe, delete, registry-dump and history on `app`; the one
// that runs sets *exit_code.
void AddRegistryCommands(CLI::App& app, int* exit_code);

class RegistryCommands {
 public:
  // `caller` names who runs the command in the registry's history (the gateway names the
  // token's user instead).
  RegistryCommands(const Target& registry, std::string caller, CommandIo io);

  int Plan(const LoadedRepo& repo);
  int Apply(const LoadedRepo& repo, bool allow_breaking, const std::string& comment);
  int List(const std::string& project, catalog::ObjectKind kind,
           const std::map<std::string, std::string>& tags);
  int Describe(const std::string& project, catalog::ObjectKind kind, const std::string& name);
  int Delete(const std::string& project, catalog::ObjectKind kind, const std::string& name,
             bool allow_breaking);
  int Dump(const std::string& project);
  int History(const std::string& project, int limit);

 private:
  int Fail(absl::string_view verb, const absl::Status& status);

  std::unique_ptr<registry::v1::RegistryService::Stub> stub_;
  Target registry_;
  std::string caller_;
  CommandIo io_;
};

}  // namespace granary::cli

#endif  // GRANARY_TOOLS_CLI_REGISTRY_COMMANDS_H_
