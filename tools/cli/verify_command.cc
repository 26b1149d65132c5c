#include "tools/cli/verify_command.h"

#include <iostream>

#include "absl/strings/str_cat.h"

#include "tools/cli/verify_tracing.h"

namespace granary::cli {

VerifyReport Verify(const DeployConfig& config) {
  VerifyReport report;
  report.Pass("config", absl::StrCat(config.path, " is valid (target ", config.target, ")"));
  for (const std::string& path : config.inline_secrets) {
    report.Warn("secrets", absl::StrCat(path, " is written in clear in ", config.path),
                "give it as {file: PATH} (a mounted Secret) or {env: NAME}");
  }
  // What each service cannot run without.
  struct Required {
    bool present;
    const char* what;
  };
  for (const Required& r : {
           Required{config.registry_postgres.has_value(), "services.registry.postgres"},
           Required{config.serving_redis.has_value(), "services.serving.redis"},
           Required{config.materializer_redis.has_value(), "services.materializer.redis"},
           Required{config.offline_reader.has_value(), "services.materializer.offline_store"},
           Required{config.gateway_auth.has_value(), "services.gateway.auth"},
       }) {
    if (!r.present) {
      report.Fail("config", absl::StrCat(r.what, " is missing"),
                  "add it (granary init writes a complete deploy.yaml)");
    }
  }
  for (const char* service : kDeployServices) {
    if (config.nats.count(service) == 0) {
      report.Fail("config", absl::StrCat("services.", service, ".nats is missing"),
                  "add it (granary init writes a complete deploy.yaml)");
    }
  }
  if (!config.offline_writer.has_value() && config.offline_reader.has_value()) {
    report.Warn("config",
                "services.materializer.offline_store_writer is missing: the offline reader's "
                "role also writes, so it cannot be a read-only role",
                "add offline_store_writer with the granary_offline_writer role");
  }
  if (config.gateway_auth) VerifyAuth(*config.gateway_auth, &report);
  if (config.tracing) VerifyTracing(*config.tracing, &report);
  if (config.serving_redis) {
    VerifyRedis("serving", *config.serving_redis, RedisRole::kReader, &report);
  }
  if (config.materializer_redis) {
    VerifyRedis("materializer", *config.materializer_redis, RedisRole::kWriter, &report);
  }
  if (config.registry_postgres) {
    VerifyPostgres(*config.registry_postgres, PgRole::kRegistry, &report);
  }
  if (config.offline_reader) {
    VerifyPostgres(*config.offline_reader,
                   config.offline_writer ? PgRole::kOfflineReader : PgRole::kOfflineWriter,
                   &report);
  }
  if (config.offline_writer) {
    VerifyPostgres(*config.offline_writer, PgRole::kOfflineWriter, &report);
  }
  for (const char* service : kDeployServices) {
    auto it = config.nats.find(service);
    if (it != config.nats.end()) VerifyNats(service, it->second, &report);
  }
  return report;
}

int RunVerify(const std::string& path, std::ostream& out, std::ostream& err) {
  absl::StatusOr<DeployConfig> config = ReadDeployConfig(path);
  if (!config.ok()) {
    err << "granary verify: " << path << ": " << config.status().message() << "\n";
    return 1;
  }
  VerifyReport report = Verify(*config);
  report.Print(out);
  return report.failed() ? 1 : 0;
}

void AddVerifyCommand(CLI::App& app, int* exit_code) {
  auto file = std::make_shared<std::string>("deploy.yaml");
  CLI::App* cmd = app.add_subcommand(
      "verify",
      "Check deploy.yaml against the real backends with each service's credentials; exit 1 "
      "on any failure");
  cmd->add_option("-f,--file", *file, "The deployment's config (default: ./deploy.yaml)");
  cmd->footer(
      "Logs in to Redis, PostgreSQL and NATS as each service, checks each has the privileges "
      "it\nneeds and no more (no data is changed), checks the gateway's token settings, and "
      "warns about\nsecrets written in clear. `granary init NAME` writes a deploy.yaml.");
  cmd->callback([file, exit_code] { *exit_code = RunVerify(*file, std::cout, std::cerr); });
}

}  // namespace granary::cli
