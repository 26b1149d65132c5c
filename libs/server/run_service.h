// RunService: every Granary binary's main(). It reads `--config FILE` (YAML), validates the
// shared `server:` section and the service's own sections all at once (exit 2 naming every bad
// key), starts the ServiceRuntime, and drains gracefully on SIGTERM or SIGINT (a second signal
// exits at once).
//
//   int main(int argc, char** argv) {
//     return granary::server::RunService(argc, argv, granary::serving::Definition());
//   }
//
// Tests start the same definition in-process, on free ports:
//
//   ASSERT_OK_AND_ASSIGN(auto rt, StartInProcess(serving::Definition(), "redis: {...}"));
#ifndef GRANARY_LIBS_SERVER_RUN_SERVICE_H_
#define GRANARY_LIBS_SERVER_RUN_SERVICE_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "libs/config/reader.h"
#include "libs/server/server_config.h"
#include "libs/server/service_host.h"
#include "libs/server/service_runtime.h"

namespace granary::server {

template <typename Config>
struct ServiceDefinition {
  // "serving": names logs, metrics and the binary's help.
  std::string name;
  // Addresses used when the config does not set them.
  ServerDefaults defaults;
  // Reads the service's own sections of the root (everything but `server:`); problems are
  // recorded in the reader and reported together.
  std::function<Config(config::Reader& root)> read_config;
  // Connects what it needs and registers services, dependencies and workers on the host.
  std::function<absl::Status(const Config&, ServiceHost&)> build;
};

namespace internal {

// Reads the config (recording problems in the reader) and returns how to build the service.
using ReadAndBind = std::function<BuildFn(config::Reader& root)>;

int RunServiceMain(int argc, char** argv, const std::string& name, const ServerDefaults& defaults,
                   const ReadAndBind& read);

absl::StatusOr<std::unique_ptr<ServiceRuntime>> StartFromYaml(const std::string& name,
                                                              absl::string_view yaml,
                                                              const ReadAndBind& read);

template <typename Config>
ReadAndBind Bind(const ServiceDefinition<Config>& def) {
  return [def](config::Reader& root) -> BuildFn {
    auto config = std::make_shared<Config>(def.read_config(root));
    return [config, build = def.build](ServiceHost& host) { return build(*config, host); };
  };
}

}  // namespace internal

template <typename Config>
int RunService(int argc, char** argv, const ServiceDefinition<Config>& def) {
  return internal::RunServiceMain(argc, argv, def.name, def.defaults, internal::Bind(def));
}

// The service in this process, configured from YAML text. Unless the YAML sets them, gRPC and
// metrics listen on 127.0.0.1 ports picked by the OS (see grpc_port() and metrics_port()).
template <typename Config>
absl::StatusOr<std::unique_ptr<ServiceRuntime>> StartInProcess(const ServiceDefinition<Config>& def,
                                                               absl::string_view yaml) {
  return internal::StartFromYaml(def.name, yaml, internal::Bind(def));
}

}  // namespace granary::server

#endif  // GRANARY_LIBS_SERVER_RUN_SERVICE_H_
