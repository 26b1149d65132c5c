// granary: the command line for Granary. `granary --help` lists the commands.
#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <map>

#include "CLI/CLI.hpp"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"

#include "libs/base/version.h"
#include "libs/catalog/object_kinds.h"
#include "tools/cli/deadletter_commands.h"
#include "tools/cli/endpoints.h"
#include "tools/cli/historical_command.h"
#include "tools/cli/init_command.h"
#include "tools/cli/jobs_commands.h"
#include "tools/cli/push_command.h"
#include "tools/cli/registry_commands.h"
#include "tools/cli/repo_loader.h"
#include "tools/cli/serving_commands.h"
#include "tools/cli/status_command.h"

namespace granary::cli {
namespace {

// Exit codes: 0 success, 1 the command ran and failed, 2 bad usage.
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

// Options shared by the registry verbs.
struct RegistryFlags {
  std::string repo = ".";
  std::string endpoint;
  std::string project;
  bool json = false;
};

void AddRegistryFlags(CLI::App& cmd, RegistryFlags& flags, bool needs_definitions) {
  cmd.add_option("--repo,-r", flags.repo, "The feature repository folder (default: .)");
  cmd.add_option("--endpoint", flags.endpoint, "The registry, host:port (default: granary.yaml)");
  if (!needs_definitions) {
    cmd.add_option("--project,-p", flags.project, "The project (default: granary.yaml)");
  }
  cmd.add_flag("--json", flags.json, "Print JSON for scripts");
}

void AddEndpointFlags(CLI::App& cmd, EndpointFlags& flags) {
  cmd.add_option("--endpoints", flags.file,
                 "YAML file with an `endpoints:` section (default: $GRANARY_ENDPOINTS)");
  cmd.add_option("--gateway", flags.overrides.gateway, "gateway address host:port");
  cmd.add_option("--registry", flags.overrides.registry, "registry address host:port");
  cmd.add_option("--serving", flags.overrides.serving, "serving address host:port");
  cmd.add_option("--ingestion", flags.overrides.ingestion, "ingestion address host:port");
  cmd.add_option("--materializer", flags.overrides.materializer, "materializer address host:port");
}

// Who runs the command, for the registry's history (the gateway will supply the
// authenticated identity instead).
std::string Caller() {
  if (const char* user = std::getenv("USER"); user != nullptr && *user != '\0') return user;
  if (const passwd* pw = getpwuid(getuid())) return pw->pw_name;
  return "unknown";
}

// The project and endpoint for verbs that do not read definitions: flags first, then
// granary.yaml.
absl::StatusOr<std::pair<std::string, std::string>> Target(const RegistryFlags& flags) {
  std::string project = flags.project, endpoint = flags.endpoint;
  if (project.empty() || endpoint.empty()) {
    absl::StatusOr<RepoConfig> config = ReadRepoConfig(flags.repo);
    if (!config.ok()) {
      if (!project.empty() && absl::IsNotFound(config.status())) {
        return std::make_pair(project, endpoint.empty() ? RepoConfig().endpoint : endpoint);
      }
      return config.status();
    }
    if (project.empty()) project = config->project.name();
    if (endpoint.empty()) endpoint = config->endpoint;
  }
  return std::make_pair(project, endpoint);
}

int Usage(const std::string& verb, absl::string_view message) {
  std::cerr << "granary " << verb << ": " << message << "\n";
  return kExitUsage;
}

}  // namespace

int Main(int argc, char** argv) {
  CLI::App app{"granary: the command line for the Granary feature store"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("granary ") + base::kVersion);

  CLI::App* version = app.add_subcommand("version", "Print the CLI's version");

  EndpointFlags endpoint_flags;
  bool status_json = false;
  std::string timeout = "2s";
  CLI::App* status = app.add_subcommand(
      "status", "Health of each service, one line each; exit 1 unless all are SERVING");
  AddEndpointFlags(*status, endpoint_flags);
  status->add_option("--timeout", timeout, "How long to wait for each service (e.g. 2s)");
  status->add_flag("--json", status_json, "Print JSON for scripts");

  std::string init_name, init_dir = ".";
  CLI::App* init = app.add_subcommand("init", "Create a feature repository to start from");
  init->add_option("name", init_name, "Project name (and folder name)")->required();
  init->add_option("--dir", init_dir, "Where to create it (default: .)");

  RegistryFlags flags;
  bool allow_breaking = false;
  std::string comment;
  CLI::App* plan = app.add_subcommand("plan", "Show what apply would change, field by field");
  AddRegistryFlags(*plan, flags, true);
  CLI::App* apply = app.add_subcommand("apply", "Make the registry match the repository");
  AddRegistryFlags(*apply, flags, true);
  apply->add_flag("--allow-breaking", allow_breaking, "Apply changes that break consumers");
  apply->add_option("--comment,-m", comment, "Why, for the history");

  std::string kind_text, name;
  std::vector<std::string> tag_flags;
  CLI::App* list = app.add_subcommand(
      "list",
      "List objects: entities, data-sources, feature-views, on-demand-feature-views, "
      "feature-services, permissions or projects");
  list->add_option("kind", kind_text, "What to list")->required();
  list->add_option("--tags", tag_flags, "Only objects with these tags (key=value, repeatable)");
  AddRegistryFlags(*list, flags, false);
  CLI::App* describe = app.add_subcommand("describe", "Show one object in full");
  describe->add_option("kind", kind_text, "Its kind (e.g. feature-view)")->required();
  describe->add_option("name", name, "Its name")->required();
  AddRegistryFlags(*describe, flags, false);
  CLI::App* del = app.add_subcommand("delete", "Delete one object, or a whole project");
  del->add_option("kind", kind_text, "Its kind (e.g. feature-view, or project)")->required();
  del->add_option("name", name, "Its name")->required();
  del->add_flag("--allow-breaking", allow_breaking, "Delete even if it breaks consumers");
  AddRegistryFlags(*del, flags, false);
  CLI::App* dump = app.add_subcommand("registry-dump", "The project's whole catalog as JSON");
  AddRegistryFlags(*dump, flags, false);
  int limit = 20;
  CLI::App* history = app.add_subcommand("history", "The project's committed changes");
  history->add_option("--limit,-n", limit, "How many, newest first (default 20)");
  AddRegistryFlags(*history, flags, false);

  OnlineQuery online;
  std::string serving_endpoint;
  CLI::App* get_online = app.add_subcommand(
      "get-online-features", "The latest feature values of some entities, from serving");
  get_online->add_option("--features,-f", online.features,
                         "view:feature references, comma-separated (repeatable)");
  get_online->add_option("--feature-service,-s", online.feature_service,
                         "A feature service instead of --features");
  get_online->add_option("--entity,-e", online.entities,
                         "join_key=value,value,... (repeatable, one per join key; none for views "
                         "without entities)");
  get_online->add_flag("--full-feature-names", online.full_feature_names,
                       "Name features <view>__<feature>");
  get_online->add_option("--serving", serving_endpoint,
                         "serving, host:port (default: granary.yaml serving_endpoint)");
  AddRegistryFlags(*get_online, flags, false);

  PushOptions push_options;
  std::string push_to = "online", ingestion_endpoint;
  CLI::App* push = app.add_subcommand(
      "push", "Send feature rows from a CSV or JSON file to a push source, through ingestion");
  push->add_option("--push-source", push_options.push_source, "The push source")->required();
  push->add_option("--file", push_options.file, "rows.csv or rows.json")->required();
  push->add_option("--to", push_to, "online (default), offline or online_and_offline");
  push->add_option("--batch-rows", push_options.batch_rows, "Rows per batch (default 1000)");
  push->add_option("--batch-bytes", push_options.max_batch_bytes,
                   "Bytes of values per batch at most (default 524288): each feature view's "
                   "share of a batch must fit one NATS message (max_payload, 1 MiB by default)");
  push->add_option("--ingestion", ingestion_endpoint,
                   "ingestion, host:port (default: granary.yaml ingestion_endpoint)");
  AddRegistryFlags(*push, flags, false);
  push->footer(
      "Files: .csv with a header line of column names (RFC 4180 quoting; an empty cell is\n"
      "null), or .json as columns {\"driver_id\": [1001, 1002], ...} or rows\n"
      "[{\"driver_id\": 1001, ...}, ...]. Columns are typed by the push source's schema in\n"
      "the registry: its timestamp columns, and the join keys and features of the views it\n"
      "feeds.\n"
      "Timestamps: RFC 3339 (2026-11-21T10:00:00Z), \"2026-11-21 10:00:00\" (UTC), unix\n"
      "seconds, or now, now-5m, now-2h, now-30s: the time of the push (so a sample file\n"
      "pushes fresh values).\n"
      "Pushing the same file again stores nothing twice: batch ids derive from the file's\n"
      "hash, and the ingestion service answers repeats as duplicates (files with `now`\n"
      "cells count as new data each time).");

  DeadLetterQuery letters;
  std::string materializer_endpoint;
  uint64_t letter_sequence = 0;
  CLI::App* deadletter = app.add_subcommand(
      "deadletter", "What the materializer could never process: list, show, replay, purge");
  deadletter->require_subcommand(1);
  auto add_letter_filters = [&](CLI::App* cmd, bool sequences) {
    cmd->add_option("--project,-p", letters.project, "Only this project's");
    cmd->add_option("--view", letters.feature_view, "Only this feature view's");
    cmd->add_option("--reason", letters.reason, "Only those whose reason contains this text");
    cmd->add_option("--consumer", letters.consumer,
                    "Only this worker's: online-writer, offline-writer, online-cleaner");
    cmd->add_option("--since", letters.since, "Dead-lettered since: RFC 3339, or 2h (ago)");
    cmd->add_option("--until", letters.until, "Dead-lettered before: RFC 3339, or 2h (ago)");
    if (sequences) cmd->add_option("sequences", letters.sequences, "Only these letters");
    cmd->add_option("--materializer", materializer_endpoint,
                    "The materializer, host:port (default: granary.yaml materializer_endpoint)");
    cmd->add_option("--repo,-r", flags.repo, "The feature repository folder (default: .)");
    cmd->add_flag("--json", flags.json, "Print JSON for scripts");
  };
  CLI::App* letter_list = deadletter->add_subcommand("list", "List dead letters, oldest first");
  add_letter_filters(letter_list, false);
  letter_list->add_option("--limit,-n", letters.limit, "At most this many (default 100)");
  CLI::App* letter_show = deadletter->add_subcommand("show", "One dead letter in full");
  letter_show->add_option("sequence", letter_sequence, "Its sequence (from list)")->required();
  letter_show->add_option("--materializer", materializer_endpoint, "The materializer, host:port");
  letter_show->add_option("--repo,-r", flags.repo, "The feature repository folder (default: .)");
  letter_show->add_flag("--json", flags.json, "Print JSON for scripts");
  CLI::App* letter_replay = deadletter->add_subcommand(
      "replay",
      "Publish matching letters' messages again, with their original batch ids: what is still "
      "missing is stored, once");
  add_letter_filters(letter_replay, true);
  letter_replay->add_flag("--all", letters.all, "Every dead letter (when no filter is given)");
  CLI::App* letter_purge =
      deadletter->add_subcommand("purge", "Delete matching dead letters for good");
  add_letter_filters(letter_purge, true);
  letter_purge->add_flag("--all", letters.all, "Every dead letter (when no filter is given)");

  // Verbs that register themselves and run in their own callbacks (one file per verb group).
  int exit_code = -1;
  AddJobCommands(app, &exit_code);
  AddHistoricalCommand(app, &exit_code);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" that exit 0; real usage errors exit 2.
    return app.exit(e) == 0 ? 0 : kExitUsage;
  }
  if (exit_code >= 0) return exit_code;

  if (version->parsed()) {
    std::cout << "granary " << base::kVersion << "\n";
    return 0;
  }
  if (status->parsed()) {
    StatusOptions options{.json = status_json};
    if (!absl::ParseDuration(timeout, &options.timeout)) {
      return Usage("status", "--timeout: expected a duration such as 2s");
    }
    absl::StatusOr<Endpoints> endpoints = ResolveEndpoints(endpoint_flags);
    if (!endpoints.ok()) return Usage("status", endpoints.status().message());
    return RunStatus(*endpoints, options, std::cout);
  }
  if (init->parsed()) return RunInit(init_name, init_dir, std::cout, std::cerr);

  CommandIo io{std::cout, std::cerr, flags.json};
  if (deadletter->parsed()) {
    absl::StatusOr<RepoConfig> config = ReadRepoConfig(flags.repo);
    if (!config.ok() && !absl::IsNotFound(config.status())) {
      std::cerr << "granary deadletter: " << config.status().message() << "\n";
      return kExitFailure;
    }
    const std::string materializer =
        !materializer_endpoint.empty()
            ? materializer_endpoint
            : (config.ok() ? config->materializer_endpoint : RepoConfig().materializer_endpoint);
    if (letter_list->parsed()) {
      if (letters.limit < 1) return Usage("deadletter list", "--limit: at least 1");
      return DeadLetterList(materializer, letters, io);
    }
    if (letter_show->parsed()) return DeadLetterShow(materializer, letter_sequence, io);
    if (letter_replay->parsed()) return DeadLetterReplay(materializer, letters, io);
    if (letter_purge->parsed()) return DeadLetterPurge(materializer, letters, io);
    return kExitUsage;
  }
  if (get_online->parsed()) {
    // Project, registry and serving: flags first, then granary.yaml, then the defaults.
    absl::StatusOr<RepoConfig> config = ReadRepoConfig(flags.repo);
    if (!config.ok() && !absl::IsNotFound(config.status())) {
      std::cerr << "granary get-online-features: " << config.status().message() << "\n";
      return kExitFailure;
    }
    RepoConfig defaults = config.ok() ? *config : RepoConfig();
    online.project = flags.project.empty() ? defaults.project.name() : flags.project;
    return GetOnlineFeatures(
        serving_endpoint.empty() ? defaults.serving_endpoint : serving_endpoint,
        flags.endpoint.empty() ? defaults.endpoint : flags.endpoint, online, io);
  }
  if (push->parsed()) {
    absl::StatusOr<ingestion::v1::PushTarget> to = ParsePushTarget(push_to);
    if (!to.ok()) return Usage("push", to.status().message());
    // Project, registry and ingestion: flags first, then granary.yaml, then the defaults.
    absl::StatusOr<RepoConfig> config = ReadRepoConfig(flags.repo);
    if (!config.ok() && !absl::IsNotFound(config.status())) {
      std::cerr << "granary push: " << config.status().message() << "\n";
      return kExitFailure;
    }
    RepoConfig defaults = config.ok() ? *config : RepoConfig();
    push_options.project = flags.project.empty() ? defaults.project.name() : flags.project;
    push_options.to = *to;
    push_options.progress = isatty(STDERR_FILENO) != 0;
    return RunPush(ingestion_endpoint.empty() ? defaults.ingestion_endpoint : ingestion_endpoint,
                   flags.endpoint.empty() ? defaults.endpoint : flags.endpoint, push_options, io);
  }
  if (plan->parsed() || apply->parsed()) {
    const char* verb = plan->parsed() ? "plan" : "apply";
    absl::StatusOr<LoadedRepo> repo = LoadRepo(flags.repo);
    if (!repo.ok()) {
      std::cerr << "granary " << verb << ": " << repo.status().message() << "\n";
      return kExitFailure;
    }
    RegistryCommands commands(flags.endpoint.empty() ? repo->config.endpoint : flags.endpoint,
                              Caller(), io);
    return plan->parsed() ? commands.Plan(*repo) : commands.Apply(*repo, allow_breaking, comment);
  }

  std::string verb = app.get_subcommands()[0]->get_name();
  absl::StatusOr<catalog::ObjectKind> kind = catalog::ParseKind(kind_text);
  if (!kind_text.empty() && !kind.ok()) return Usage(verb, kind.status().message());
  // Projects are not inside a project: those verbs need no repo and no --project.
  if (!kind_text.empty() && *kind == registry::v1::PROJECT && flags.project.empty()) {
    flags.project = "-";
  }
  absl::StatusOr<std::pair<std::string, std::string>> target = Target(flags);
  if (!target.ok()) {
    std::cerr << "granary " << verb << ": " << target.status().message() << "\n";
    return kExitFailure;
  }
  const auto& [project, endpoint] = *target;
  RegistryCommands commands(endpoint, Caller(), io);
  if (dump->parsed()) return commands.Dump(project);
  if (history->parsed()) {
    if (limit < 1 || limit > 1000) return Usage("history", "--limit: between 1 and 1000");
    return commands.History(project, limit);
  }
  if (list->parsed()) {
    std::map<std::string, std::string> tags;
    for (const std::string& t : tag_flags) {
      std::pair<std::string, std::string> kv = absl::StrSplit(t, absl::MaxSplits('=', 1));
      if (kv.first.empty() || t.find('=') == std::string::npos) {
        return Usage("list", "--tags: expected key=value, got \"" + t + "\"");
      }
      tags.insert(kv);
    }
    return commands.List(project, *kind, tags);
  }
  if (describe->parsed()) return commands.Describe(project, *kind, name);
  if (del->parsed()) return commands.Delete(project, *kind, name, allow_breaking);
  return kExitUsage;
}

}  // namespace granary::cli

int main(int argc, char** argv) { return granary::cli::Main(argc, argv); }
