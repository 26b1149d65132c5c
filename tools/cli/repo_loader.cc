#include "tools/cli/repo_loader.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"

#include "libs/base/status_macros.h"
#include "libs/catalog/object_kinds.h"
#include "libs/catalog/rules.h"
#include "libs/config/reader.h"
#include "tools/cli/yaml_proto.h"

namespace granary::cli {
namespace {

namespace fs = std::filesystem;

// The problems of a finished reader, one per line (empty when there are none).
std::vector<std::string> Problems(const config::Reader& reader) {
  absl::Status s = reader.Finish();
  if (s.ok()) return {};
  std::vector<std::string> lines = absl::StrSplit(s.message(), '\n', absl::SkipEmpty());
  lines.erase(lines.begin());  // "invalid configuration (N problems):"
  for (std::string& line : lines) line = std::string(absl::StripLeadingAsciiWhitespace(line));
  return lines;
}

void ReadConfigFrom(config::Reader& root, RepoConfig* config) {
  config->project.set_name(root.RequiredString("project"));
  config->project.set_description(root.String("description", ""));
  config->project.set_owner(root.String("owner", ""));
  for (const auto& [k, v] : root.StringMap("tags")) (*config->project.mutable_tags())[k] = v;
  config->endpoint = root.Address("endpoint", "");
  config->registry_endpoint = root.Address("registry_endpoint", "");
  config->serving_endpoint = root.Address("serving_endpoint", "");
  config->ingestion_endpoint = root.Address("ingestion_endpoint", "");
  config->materializer_endpoint = root.Address("materializer_endpoint", "");
  config::Reader auth = root.Section("auth");
  config->auth_type = auth.String("type", config->auth_type);
  if (config->auth_type != "bearer" && config->auth_type != "none") {
    auth.AddError("type", absl::StrCat("\"", config->auth_type,
                                       "\" is not supported yet (only bearer or none)"));
  }
  std::string token_file = auth.String("token_file", "");
  if (!token_file.empty() && config->auth_type == "none") {
    auth.AddError("token_file", "a token file with type none: drop one of them");
  }
  if (absl::StartsWith(token_file, "~/")) {
    if (const char* home = std::getenv("HOME")) token_file = home + token_file.substr(1);
  }
  if (!token_file.empty()) config->token_file = (fs::path(config->dir) / token_file).string();
}

// Definition files: *.yaml and *.yml below dir, in a stable order. Not definitions: hidden
// folders, and at the top granary.yaml, deploy.yaml (granary verify/deploy) and the
// compose.override.yaml that `granary deploy` writes beside it.
std::vector<fs::path> DefinitionFiles(const std::string& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::end(it); it.increment(ec)) {
    const fs::path& p = it->path();
    if (it->is_directory() && absl::StartsWith(p.filename().string(), ".")) {
      it.disable_recursion_pending();
      continue;
    }
    std::string ext = p.extension().string();
    const bool top = p.parent_path() == fs::path(dir);
    const std::string name = p.filename().string();
    if (it->is_regular_file() && (ext == ".yaml" || ext == ".yml") &&
        !(top &&
          (name == kRepoConfigFile || name == "deploy.yaml" || name == "compose.override.yaml"))) {
      files.push_back(p);
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

absl::StatusOr<RepoConfig> ReadRepoConfig(const std::string& dir) {
  std::string path = (fs::path(dir) / kRepoConfigFile).string();
  if (!fs::exists(path)) {
    return absl::NotFoundError(absl::StrCat("no ", kRepoConfigFile, " in ", dir,
                                            " (run it from a feature repo, or pass --repo)"));
  }
  ASSIGN_OR_RETURN(config::Reader root, config::Reader::FromFile(path));
  RepoConfig config;
  config.dir = dir;
  ReadConfigFrom(root, &config);
  RETURN_IF_ERROR(catalog::RepoProblems(Problems(root)));
  return config;
}

absl::StatusOr<LoadedRepo> LoadRepo(const std::string& dir) {
  LoadedRepo loaded;
  ASSIGN_OR_RETURN(loaded.config, ReadRepoConfig(dir));
  *loaded.repo.mutable_project() = loaded.config.project;
  std::vector<std::string> problems;
  for (const fs::path& file : DefinitionFiles(dir)) {
    std::string shown = fs::relative(file, dir).string();
    absl::StatusOr<config::Reader> root = config::Reader::FromFile(file.string());
    if (!root.ok()) {
      // Malformed YAML: the message names the file (by its full path) and the line.
      problems.push_back(absl::StrReplaceAll(root.status().message(), {{file.string(), shown}}));
      continue;
    }
    // Index paths become name paths in messages: "feature_views[0]" -> "feature_views[x]".
    std::vector<std::pair<std::string, std::string>> renames;
    for (catalog::ObjectKind kind : catalog::RepoKinds()) {
      std::vector<config::Reader> items = root->List(catalog::KindPlural(kind));
      for (size_t i = 0; i < items.size(); ++i) {
        google::protobuf::Message* object = catalog::AddObject(&loaded.repo, kind);
        ReadMessage(items[i], object);
        std::string name = catalog::ObjectName(*object);
        loaded.locations[{kind, name}] = absl::StrCat(shown, ":", items[i].line());
        if (!name.empty()) {
          std::string from = absl::StrCat(catalog::KindPlural(kind), "[", i, "]");
          std::string to = absl::StrCat(catalog::KindPlural(kind), "[", name, "]");
          renames.push_back({from + ".", to + "."});
          renames.push_back({from + ":", to + ":"});
        }
      }
    }
    for (std::string& p : Problems(*root)) {
      problems.push_back(
          absl::StrReplaceAll(absl::StrReplaceAll(p, {{file.string(), shown}}), renames));
    }
  }
  RETURN_IF_ERROR(catalog::RepoProblems(problems));
  return loaded;
}

std::string LocateProblems(const LoadedRepo& repo, absl::string_view message) {
  std::vector<std::string> lines = absl::StrSplit(message, '\n');
  for (std::string& line : lines) {
    absl::string_view text = absl::StripLeadingAsciiWhitespace(line);
    size_t open = text.find('[');
    size_t close = text.find(']');
    if (open == absl::string_view::npos || close == absl::string_view::npos || close < open) {
      continue;
    }
    absl::StatusOr<catalog::ObjectKind> kind = catalog::ParseKind(text.substr(0, open));
    if (!kind.ok()) continue;
    auto it = repo.locations.find({*kind, std::string(text.substr(open + 1, close - open - 1))});
    if (it == repo.locations.end()) continue;
    line = absl::StrCat(line.substr(0, line.size() - text.size()), it->second, ": ", text);
  }
  return absl::StrJoin(lines, "\n");
}

}  // namespace granary::cli
