// deploy.yaml: what an operator deploys, in one file `granary init` writes and `granary
// verify` checks. Each service's backend sections have the shape of that service's own
// config (libs/redis, libs/pg, libs/bus, libs/auth readers), so what is verified is what the
// service will be given.
//
//   target: local                      # local | compose | kubernetes
//   namespace: granary                 # kubernetes
//   image: granary:latest              # compose, kubernetes
//   endpoints: {gateway: 127.0.0.1:6565, http: 127.0.0.1:6566}
//   replicas: {serving: 2, gateway: 2, materializer: 1, ingestion: 1, registry: 1}
//   services:
//     registry:
//       postgres: {address: ..., database: granary, user: granary_registry,
//                  password: {file: secrets/pg-registry}}
//       nats: {url: nats://..., user: granary-registry, password: {file: ...}}
//     serving:      {redis: {...}, nats: {...}}
//     ingestion:    {nats: {...}}
//     materializer: {redis: {...}, nats: {...}, offline_store: {...},
//                    offline_store_writer: {...}}
//     gateway:      {nats: {...}, auth: {...}}
//   tracing: {otlp_endpoint: otel-collector:4317, sample_ratio: 0.1}   # every service's
//                                                                      # server.tracing
//
// Secrets are {file: PATH} or {env: NAME} (a relative PATH is from the current folder). A
// literal is accepted here (and only here) so that verify can say so rather than fail to read.
#ifndef GRANARY_TOOLS_CLI_DEPLOY_CONFIG_H_
#define GRANARY_TOOLS_CLI_DEPLOY_CONFIG_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

#include "libs/auth/auth_config.h"
#include "libs/bus/options.h"
#include "libs/pg/options.h"
#include "libs/redis/options.h"
#include "libs/trace/tracer.h"

namespace granary::cli {

inline constexpr const char* kDeployServices[] = {"registry", "serving", "ingestion",
                                                  "materializer", "gateway"};

struct DeployConfig {
  std::string path;  // the file read
  std::string target = "local";
  std::string kubernetes_namespace = "granary";
  std::string image = "granary:latest";
  std::string gateway_endpoint = "127.0.0.1:6565";
  std::string http_endpoint = "127.0.0.1:6566";
  std::map<std::string, int> replicas;  // by service, those given (else the target's)

  std::optional<pg::PgOptions> registry_postgres;
  std::optional<redis::RedisOptions> serving_redis;
  std::optional<redis::RedisOptions> materializer_redis;
  std::optional<pg::PgOptions> offline_reader;   // materializer.offline_store
  std::optional<pg::PgOptions> offline_writer;   // materializer.offline_store_writer
  std::map<std::string, bus::NatsOptions> nats;  // by service
  std::optional<auth::AuthConfig> gateway_auth;
  // Given: every service's server.tracing (libs/trace/tracing_config.h).
  std::optional<trace::TracingConfig> tracing;

  // Secrets written in clear, by path ("services.serving.redis.password").
  std::vector<std::string> inline_secrets;
};

// INVALID_ARGUMENT listing every problem (unknown keys, bad values, unreadable secret files).
absl::StatusOr<DeployConfig> ReadDeployConfig(const std::string& path);

// The deploy.yaml `granary init` writes: for the local stack when `stack_dir` (a tools/dev
// state folder, with ports.env and secrets/) is given, else a template with the default ports
// and secrets under ./secrets.
std::string DeployYamlFor(const std::string& stack_dir);

}  // namespace granary::cli

#endif  // GRANARY_TOOLS_CLI_DEPLOY_CONFIG_H_
