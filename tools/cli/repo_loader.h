// A feature repository on disk: granary.yaml (project, endpoint, auth) and YAML files of
// definitions beside it (and in subfolders), each with top-level lists named after the kinds:
//
//   # granary.yaml
//   project: driver_stats
//   endpoint: 127.0.0.1:6570
//   auth: {type: none}
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
  // Where requests go: the registry (later the gateway), host:port.
  std::string endpoint = "127.0.0.1:6570";
  // Where online reads go (get-online-features), host:port.
  std::string serving_endpoint = "127.0.0.1:6571";
  // Where pushed rows go (push), host:port.
  std::string ingestion_endpoint = "127.0.0.1:6572";
  // The materializer (deadletter), host:port.
  std::string materializer_endpoint = "127.0.0.1:6573";
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
