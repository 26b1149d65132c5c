// A feature repository on disk: granary.yaml (project, endpoint, auth) and YAML files of
// definitions beside it (and in subfolders), each with top-level lists named after the kinds:
//
//   # granary.yaml
//   project: driver_stats
//   endpoint: 127.0.0.1:6565          # the gateway
//   auth: {token_file: ~/.granary/token}
//
//   # driver.yaml
//   entities:
//     - {name: driver, join_key: driver_id, value_type: INT64}
//   feature_views:
//     - name: driver_hourly_stats
//       ...
//
// Every problem in every file is reported at once, with file, line and path; objects keep
// the file and line they were defined at, so that problems the registry finds can point there.
#ifndef GRANARY_TOOLS_CLI_REPO_LOADER_H_
#define GRANARY_TOOLS_CLI_REPO_LOADER_H_

#include <map>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "granary/registry/v1/repo.pb.h"

namespace granary::cli {

constexpr char kRepoConfigFile[] = "granary.yaml";

struct RepoConfig {
  std::string dir;
  // The project; the repo's objects all belong to it.
  registry::v1::Project project;
  // Where requests go, host:port: the gateway, which forwards each call to its service. Empty
  // when granary.yaml names none (tools/cli/endpoints.h then decides).
  std::string endpoint;
  // A service reached at an address of its own instead, host:port; empty: through `endpoint`.
  std::string registry_endpoint;
  std::string serving_endpoint;
  std::string ingestion_endpoint;
  std::string materializer_endpoint;
  // `auth: {type: bearer|none, token_file: PATH}`: with none, the CLI sends a token only when
  // given one with --token or $GRANARY_TOKEN.
  std::string auth_type = "bearer";
  // The file holding the token to send (relative paths from `dir`); empty when not named.
  std::string token_file;
};

struct LoadedRepo {
  RepoConfig config;
  registry::v1::FeatureRepo repo;
  // (kind, name) -> "file.yaml:12".
  std::map<std::pair<int, std::string>, std::string> locations;
};

// granary.yaml alone (for commands that only talk to the registry).
absl::StatusOr<RepoConfig> ReadRepoConfig(const std::string& dir);
// granary.yaml and every definition file.
absl::StatusOr<LoadedRepo> LoadRepo(const std::string& dir);

// A registry message listing problems by object path ("feature_views[x].schema[2]: ..."),
// each line prefixed with the file and line the object was defined at.
std::string LocateProblems(const LoadedRepo& repo, absl::string_view message);

}  // namespace granary::cli

#endif  // GRANARY_TOOLS_CLI_REPO_LOADER_H_
