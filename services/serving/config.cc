#include "services/serving/config.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

#include "libs/catalog/rules.h"

namespace granary::serving {

ServingConfig ReadServingConfig(config::Reader& root) {
  ServingConfig c;
  config::Reader serving = root.Section("serving");
  c.reader.default_project = serving.RequiredString("project");
  c.reader.projects = serving.StringList("projects");
  if (std::find(c.reader.projects.begin(), c.reader.projects.end(), c.reader.default_project) ==
      c.reader.projects.end()) {
    c.reader.projects.push_back(c.reader.default_project);
  }
  for (const std::string& project : c.reader.projects) {
    if (!project.empty() && !catalog::IsProjectName(project)) {
      serving.AddError("projects", absl::StrCat("'", project, "' is not a project name"));
    }
  }
  c.reader.max_entity_rows =
      static_cast<size_t>(serving.Int("max_entity_rows", 1000, 1, 1'000'000));
  c.reader.max_request_time = serving.Duration("max_request_time", absl::Seconds(1),
                                               absl::Milliseconds(1), absl::Minutes(1));
  c.read_connections = static_cast<int>(serving.Int("read_connections", 2, 1, 64));
  c.registry = registry_client::ReadRegistryClientOptions(root.Section("registry"));
  if (root.Has("nats")) c.nats = bus::ReadNatsOptions(root.Section("nats"));
  c.redis = redis::ReadRedisOptions(root.Section("redis"));
  return c;
}

}  // namespace granary::serving
