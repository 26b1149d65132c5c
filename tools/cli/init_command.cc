#include "tools/cli/init_command.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

#include "libs/catalog/rules.h"
#include "tools/cli/credentials.h"
#include "tools/cli/deploy_config.h"

namespace granary::cli {
namespace {

namespace fs = std::filesystem;

constexpr char kConfig[] =
    R"(# The feature repository of project PROJECT. `granary plan` shows what `granary apply`
# would change in the registry; both read every *.yaml file in this folder.
project: PROJECT
description: ""
# Where the CLI sends requests: the gateway, which forwards each to its service.
endpoint: 127.0.0.1:6565
# Every call carries a bearer token: --token, else $GRANARY_TOKEN, else this file, else the
# nearest .granary/token (`tools/dev up` writes one). `granary token` mints development ones.
auth:
  type: bearer
  # token_file: ~/.granary/token
)";

constexpr char kExample[] = R"(# An example to start from: what a driver did, hour by hour.
entities:
  - name: driver
    join_key: driver_id
    value_type: INT64
    description: A driver.

data_sources:
  - name: driver_stats_source
    postgres: {table: driver_stats}
    timestamp_field: event_timestamp
    created_timestamp_column: created

feature_views:
  - name: driver_hourly_stats
    entities: [driver]
    ttl: 1d
    schema:
      - {name: conv_rate, dtype: FLOAT}
      - {name: acc_rate, dtype: FLOAT}
      - {name: avg_daily_trips, dtype: INT64}
    batch_source: driver_stats_source
    online: true
    tags: {team: driver_performance}

feature_services:
  - name: driver_activity
    features:
      - feature_view: driver_hourly_stats
        features: [conv_rate, acc_rate]
)";

}  // namespace

int RunInit(const std::string& name, const std::string& parent, std::ostream& out,
            std::ostream& err) {
  if (!catalog::IsProjectName(name)) {
    err << "granary init: \"" << name
        << "\" is not a project name (lower-case letters, digits and underscores, starting "
           "with a letter)\n";
    return 1;
  }
  fs::path dir = fs::path(parent) / name;
  std::error_code ec;
  if (fs::exists(dir) && !fs::is_empty(dir, ec)) {
    err << "granary init: " << dir.string() << " exists and is not empty\n";
    return 1;
  }
  fs::create_directories(dir, ec);
  if (ec) {
    err << "granary init: cannot create " << dir.string() << ": " << ec.message() << "\n";
    return 1;
  }
  // deploy.yaml describes the local stack when there is one (its ports and secrets), so that
  // `granary verify` runs against it at once; else it is a template to fill in.
  const std::string ports = FindStateFile("ports.env", {parent});
  const std::string stack = ports.empty() ? "" : fs::path(ports).parent_path().string();
  for (const auto& [file, text] :
       {std::make_pair("granary.yaml", absl::StrReplaceAll(kConfig, {{"PROJECT", name}})),
        std::make_pair("example.yaml", std::string(kExample)),
        std::make_pair("deploy.yaml", DeployYamlFor(stack))}) {
    std::ofstream out(dir / file);
    out << text;
    if (!out.flush()) {
      err << "granary init: cannot write " << (dir / file).string() << "\n";
      return 1;
    }
  }
  out << "Created feature repository " << dir.string() << " for project " << name << ".\n"
      << "deploy.yaml describes "
      << (stack.empty() ? "a deployment to fill in" : "the local stack at " + stack)
      << ": granary verify checks it against the backends.\nNext: cd " << dir.string()
      << " && granary verify && granary plan\n";
  return 0;
}

void AddInitCommand(CLI::App& app, int* exit_code) {
  auto name = std::make_shared<std::string>();
  auto dir = std::make_shared<std::string>(".");
  CLI::App* cmd = app.add_subcommand("init", "Create a feature repository to start from");
  cmd->add_option("name", *name, "Project name (and folder name)")->required();
  cmd->add_option("--dir", *dir, "Where to create it (default: .)");
  cmd->callback([=] { *exit_code = RunInit(*name, *dir, std::cout, std::cerr); });
}

}  // namespace granary::cli
