// `granary deploy [-f deploy.yaml] [--target T] [--overlay dev|prod] [--dry-run]`: the third
// step after init and verify.
//
//   local       runs tools/dev up (the checkout's), the stack on loopback
//   compose     writes compose.override.yaml beside deploy.yaml (image, replicas) and runs
//               docker compose (or docker-compose) up -d with it
//   kubernetes  renders deploy/k8s/overlays/OVERLAY with kubectl kustomize, sets the namespace,
//               image and replicas of deploy.yaml and its backends' addresses and users (not
//               loopback ones: those are the local stack's), and applies it with kubectl
//
// --dry-run prints what would be run or applied (the manifests, the override) and changes
// nothing. --overlay alone implies the kubernetes target.
#ifndef GRANARY_TOOLS_CLI_DEPLOY_COMMAND_H_
#define GRANARY_TOOLS_CLI_DEPLOY_COMMAND_H_

#include <ostream>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"

#include "tools/cli/deploy_config.h"

namespace granary::cli {

// The rendered overlay (multi-document YAML) with deploy.yaml's settings applied. Warnings
// (settings left as the overlay has them, and why) go to `notes`.
absl::StatusOr<std::string> CustomizeManifests(const std::string& rendered,
                                               const DeployConfig& config, std::ostream& notes);

// compose.override.yaml for deploy.yaml's image and replicas.
std::string ComposeOverride(const DeployConfig& config);

struct DeployOptions {
  std::string file = "deploy.yaml";
  std::string target;   // empty: deploy.yaml's, or kubernetes when an overlay is given
  std::string overlay;  // kubernetes: dev or prod (default prod)
  std::string repo;     // the Granary checkout; empty: found above the current folder
  bool dry_run = false;
};

int RunDeploy(const DeployOptions& options, std::ostream& out, std::ostream& err);

void AddDeployCommand(CLI::App& app, int* exit_code);

}  // namespace granary::cli

#endif  // GRANARY_TOOLS_CLI_DEPLOY_COMMAND_H_
