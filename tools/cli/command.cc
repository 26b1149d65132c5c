#include "tools/cli/command.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>

namespace granary::cli {

void AddRepoFlags(CLI::App* cmd, RepoFlags& flags, bool reads_definitions) {
  cmd->add_option("--repo,-r", flags.repo, "The feature repository folder (default: .)");
  cmd->add_option("--endpoint", flags.registry,
                  "The registry, host:port (default: granary.yaml endpoint)");
  if (!reads_definitions) {
    cmd->add_option("--project,-p", flags.project, "The project (default: granary.yaml)");
  }
  cmd->add_flag("--json", flags.json, "Print JSON for scripts");
}

absl::StatusOr<RepoConfig> RepoDefaults(const std::string& repo) {
  absl::StatusOr<RepoConfig> config = ReadRepoConfig(repo);
  if (absl::IsNotFound(config.status())) return RepoConfig();
  return config;
}

int Usage(absl::string_view verb, absl::string_view message) {
  std::cerr << "granary " << verb << ": " << message << "\n";
  return kExitUsage;
}

int Failure(absl::string_view verb, absl::string_view message) {
  std::cerr << "granary " << verb << ": " << message << "\n";
  return kExitFailure;
}

std::string Caller() {
  if (const char* user = std::getenv("USER"); user != nullptr && *user != '\0') return user;
  if (const passwd* pw = getpwuid(getuid())) return pw->pw_name;
  return "unknown";
}

}  // namespace granary::cli
