// granary-online-loader: writes a values file's rows into the online store (Redis), checked
// against the registry, so that `tools/dev up` can make the example answer real values until
// ingestion and materialization exist. See loader.h for the file format.
//
//   granary-online-loader --registry 127.0.0.1:6570 --redis 127.0.0.1:16379
//                         --values examples/online_values/driver_stats.yaml
//
// Prints one line per view ("driver_hourly_stats: 6 rows written"). Exits 0 on success, 1
// when the load failed (the message says why), 2 for bad usage.
#include <iostream>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

#include "libs/config/reader.h"
#include "libs/config/secret.h"
#include "tools/online_loader/loader.h"

namespace granary::online_loader {
namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

struct Flags {
  std::string registry = "127.0.0.1:6570";
  std::string redis = "127.0.0.1:6379";
  std::string redis_user;
  std::string redis_password_file;
  std::string values;
  std::string timeout = "10s";
};

absl::StatusOr<LoadOptions> ToOptions(const Flags& flags) {
  LoadOptions options;
  options.values_path = flags.values;
  options.registry_address = flags.registry;
  if (absl::StatusOr<config::HostPort> registry = config::ParseHostPort(flags.registry);
      !registry.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--registry: ", registry.status().message()));
  }
  absl::StatusOr<config::HostPort> redis = config::ParseHostPort(flags.redis);
  if (!redis.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--redis: ", redis.status().message()));
  }
  options.redis.host = redis->host;
  options.redis.port = redis->port;
  options.redis.user = flags.redis_user;
  if (!flags.redis_password_file.empty()) {
    absl::StatusOr<config::Secret> password = config::Secret::FromFile(flags.redis_password_file);
    if (!password.ok()) {
      return absl::Status(password.status().code(),
                          absl::StrCat("--redis_password_file: ", password.status().message()));
    }
    options.redis.password = *std::move(password);
  }
  if (!absl::ParseDuration(flags.timeout, &options.timeout) ||
      options.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--timeout: expected a duration such as 10s, got \"", flags.timeout, "\""));
  }
  return options;
}

int Main(int argc, char** argv) {
  Flags flags;
  CLI::App app{
      "Writes a values file's rows into the online store (Redis), each converted by the type the "
      "registry declares and written only if newer than the stored row.",
      "granary-online-loader"};
  app.add_option("--registry", flags.registry, "The registry, host:port (default 127.0.0.1:6570)");
  app.add_option("--redis", flags.redis,
                 "The online store's Redis, host:port (default "
                 "127.0.0.1:6379)");
  app.add_option("--redis_user", flags.redis_user, "Redis ACL user (default: the default user)");
  app.add_option("--redis_password_file", flags.redis_password_file,
                 "File holding the Redis password");
  app.add_option("--values", flags.values, "The values file (YAML)")->required();
  app.add_option("--timeout", flags.timeout,
                 "Time allowed for the registry call and for each view's writes (default 10s)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kExitUsage;
  }

  absl::StatusOr<LoadOptions> options = ToOptions(flags);
  if (!options.ok()) {
    std::cerr << "granary-online-loader: " << options.status().message() << "\n";
    return kExitUsage;
  }
  absl::StatusOr<std::vector<ViewResult>> results = Load(*options, absl::Now());
  if (!results.ok()) {
    std::cerr << "granary-online-loader: " << results.status().message() << "\n";
    return kExitFailure;
  }
  for (const ViewResult& result : *results) std::cout << Summary(result) << "\n";
  return 0;
}

}  // namespace
}  // namespace granary::online_loader

int main(int argc, char** argv) { return granary::online_loader::Main(argc, argv); }
