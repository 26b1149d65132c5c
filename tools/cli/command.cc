#include "tools/cli/command.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "libs/base/status_macros.h"
#include "tools/cli/credentials.h"

namespace granary::cli {

void AddGlobalFlags(CLI::App& app) {
  app.fallthrough();
  app.add_option("--token",
                 "Bearer token sent with every call (default: $GRANARY_TOKEN, granary.yaml "
                 "auth.token_file, .granary/token; prefer those: flags show in ps)");
  app.add_option("--endpoints",
                 "YAML file with an `endpoints:` section (default: $GRANARY_ENDPOINTS)");
  app.add_option("--gateway",
                 "The gateway, host:port, where every call goes unless a service is named "
                 "(default: the endpoints file, granary.yaml endpoint, 127.0.0.1:6565)");
}

GlobalFlags GlobalFlagsOf(const CLI::App* cmd) {
  const CLI::App* root = cmd;
  while (root->get_parent() != nullptr) root = root->get_parent();
  auto value = [root](const char* name) {
    const CLI::Option* option = root->get_option_no_throw(name);
    return option != nullptr && option->count() > 0 ? option->as<std::string>() : std::string();
  };
  return {
      .token = value("--token"), .endpoints = value("--endpoints"), .gateway = value("--gateway")};
}

absl::StatusOr<Targets> ResolveTargets(const GlobalFlags& globals, const Endpoints& verb,
                                       const RepoConfig& repo) {
  EndpointFlags flags{.file = globals.endpoints, .overrides = verb};
  flags.overrides.gateway = Either(verb.gateway, globals.gateway);
  ASSIGN_OR_RETURN(Endpoints e,
                   ResolveEndpoints(flags, {.gateway = repo.endpoint,
                                            .registry = repo.registry_endpoint,
                                            .serving = repo.serving_endpoint,
                                            .ingestion = repo.ingestion_endpoint,
                                            .materializer = repo.materializer_endpoint}));
  ASSIGN_OR_RETURN(BearerToken token, ResolveToken(globals.token, repo));
  auto target = [&token](const std::string& address) {
    return Target{.address = address, .token = token.value, .token_source = token.source};
  };
  return Targets{.registry = target(e.registry),
                 .serving = target(e.serving),
                 .ingestion = target(e.ingestion),
                 .materializer = target(e.materializer)};
}

void AddRepoFlags(CLI::App* cmd, RepoFlags& flags, bool reads_definitions) {
  cmd->add_option("--repo,-r", flags.repo, "The feature repository folder (default: .)");
  cmd->add_option("--endpoint", flags.registry,
                  "The registry, host:port (default: through the gateway)");
  if (!reads_definitions) {
    cmd->add_option("--project,-p", flags.project, "The project (default: granary.yaml)");
  }
  cmd->add_flag("--json", flags.json, "Print JSON for scripts");
}

absl::StatusOr<RepoConfig> RepoDefaults(const std::string& repo) {
  absl::StatusOr<RepoConfig> config = ReadRepoConfig(repo);
  if (absl::IsNotFound(config.status())) {
    RepoConfig defaults;
    defaults.dir = repo;
    return defaults;
  }
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
