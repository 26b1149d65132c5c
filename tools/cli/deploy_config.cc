#include "tools/cli/deploy_config.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

#include "libs/base/status_macros.h"
#include "libs/config/reader.h"
#include "libs/trace/tracing_config.h"

namespace granary::cli {
namespace {

constexpr const char* kTargets[] = {"local", "compose", "kubernetes"};

// The local stack's ports.env as a map (REDIS_PORT=16379 ...).
std::map<std::string, std::string> ReadPorts(const std::string& stack_dir) {
  std::map<std::string, std::string> ports;
  std::ifstream in(stack_dir + "/ports.env");
  std::string line;
  while (std::getline(in, line)) {
    size_t eq = line.find('=');
    if (eq != std::string::npos) ports[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return ports;
}

constexpr char kTemplate[] =
    R"(# What Granary is deployed with: `granary verify` checks it against the real backends with
# each service's own credentials; `granary deploy` deploys it. Each service's sections have
# the shape of that service's config (see each service's README). Secrets: {file: PATH} or
# {env: NAME}, never written here in clear (verify warns when one is).
target: local                  # local (tools/dev), compose or kubernetes
namespace: granary             # kubernetes
image: granary:latest          # compose and kubernetes
endpoints: {gateway: 127.0.0.1:@GATEWAY@, http: 127.0.0.1:@HTTP@}
# replicas: {serving: 3, gateway: 2, materializer: 2}   # default: the target's (overlay's);
#                                                      # serving and the gateway also scale on
#                                                      # CPU, the materializer on its backlog
services:
  registry:
    postgres: {address: 127.0.0.1:@POSTGRES@, database: granary, user: granary_registry, password: {file: '@SECRETS@/pg-registry'}, sslmode: @SSLMODE@}
    nats: {url: 'nats://127.0.0.1:@NATS@', user: granary-registry, password: {file: '@SECRETS@/nats-registry'}}
  serving:
    redis: {address: 127.0.0.1:@REDIS@, user: granary-serving, password: {file: '@SECRETS@/redis-serving'}}
    nats: {url: 'nats://127.0.0.1:@NATS@', user: granary-serving, password: {file: '@SECRETS@/nats-serving'}}
  ingestion:
    nats: {url: 'nats://127.0.0.1:@NATS@', user: granary-ingestion, password: {file: '@SECRETS@/nats-ingestion'}}
  materializer:
    redis: {address: 127.0.0.1:@REDIS@, user: granary-writer, password: {file: '@SECRETS@/redis-writer'}}
    nats: {url: 'nats://127.0.0.1:@NATS@', user: granary-materializer, password: {file: '@SECRETS@/nats-materializer'}}
    offline_store: {address: 127.0.0.1:@POSTGRES@, database: granary, user: granary_offline_reader, password: {file: '@SECRETS@/pg-offline-reader'}, sslmode: @SSLMODE@}
    offline_store_writer: {address: 127.0.0.1:@POSTGRES@, database: granary, user: granary_offline_writer, password: {file: '@SECRETS@/pg-offline-writer'}, sslmode: @SSLMODE@}
  gateway:
    nats: {url: 'nats://127.0.0.1:@NATS@', user: granary-gateway, password: {file: '@SECRETS@/nats-gateway'}}
    # Development tokens (granary token); in production, type: oidc with discovery_url and
    # issuer, or type: kubernetes (services/gateway/README.md).
    auth:
      type: jwt
      algorithms: [HS256]
      hs256_secret: {file: '@SECRETS@/jwt.secret'}
      issuer: granary-dev
      audiences: [granary]
# OpenTelemetry: every service sends its spans to this OTLP/gRPC receiver (a collector), a
# share of the traces that start at Granary (a caller's sampled trace is always followed).
# tracing: {otlp_endpoint: 'otel-collector:4317', sample_ratio: 0.1}
)";

}  // namespace

std::string DeployYamlFor(const std::string& stack_dir) {
  std::map<std::string, std::string> ports;
  if (!stack_dir.empty()) ports = ReadPorts(stack_dir);
  auto port = [&ports](const char* name, const char* fallback) {
    auto it = ports.find(name);
    return it == ports.end() ? std::string(fallback) : it->second;
  };
  // tools/dev keeps jwt.secret beside secrets/, the rest inside it; a template keeps them all
  // in ./secrets.
  std::string secrets = stack_dir.empty() ? "secrets" : stack_dir + "/secrets";
  std::string text =
      absl::StrReplaceAll(kTemplate, {{"@GATEWAY@", port("GATEWAY_PORT", "6565")},
                                      {"@HTTP@", port("GATEWAY_HTTP_PORT", "6566")},
                                      {"@POSTGRES@", port("POSTGRES_PORT", "5432")},
                                      {"@REDIS@", port("REDIS_PORT", "6379")},
                                      {"@NATS@", port("NATS_PORT", "4222")},
                                      {"@SSLMODE@", stack_dir.empty() ? "verify-full" : "disable"},
                                      {"@SECRETS@", secrets}});
  if (!stack_dir.empty()) {
    text = absl::StrReplaceAll(text, {{secrets + "/jwt.secret", stack_dir + "/jwt.secret"}});
  }
  return text;
}

absl::StatusOr<DeployConfig> ReadDeployConfig(const std::string& path) {
  ASSIGN_OR_RETURN(config::Reader root, config::Reader::FromFile(path));
  root.AllowInlineSecrets();
  DeployConfig c;
  c.path = path;
  c.target = root.String("target", c.target);
  if (std::find(std::begin(kTargets), std::end(kTargets), c.target) == std::end(kTargets)) {
    root.AddError("target", "expected local, compose or kubernetes");
  }
  c.kubernetes_namespace = root.String("namespace", c.kubernetes_namespace);
  c.image = root.String("image", c.image);
  config::Reader endpoints = root.Section("endpoints");
  c.gateway_endpoint = endpoints.Address("gateway", c.gateway_endpoint);
  c.http_endpoint = endpoints.Address("http", c.http_endpoint);
  config::Reader replicas = root.Section("replicas");
  for (const char* service : kDeployServices) {
    if (replicas.Has(service)) {
      c.replicas[service] = static_cast<int>(replicas.Int(service, 1, 1, 1000));
    }
  }
  config::Reader services = root.Section("services");
  for (const char* service : kDeployServices) {
    config::Reader s = services.Section(service);
    if (s.Has("nats")) c.nats[service] = bus::ReadNatsOptions(s.Section("nats"));
  }
  config::Reader registry = services.Section("registry");
  if (registry.Has("postgres"))
    c.registry_postgres = pg::ReadPgOptions(registry.Section("postgres"));
  config::Reader serving = services.Section("serving");
  if (serving.Has("redis")) c.serving_redis = redis::ReadRedisOptions(serving.Section("redis"));
  config::Reader materializer = services.Section("materializer");
  if (materializer.Has("redis")) {
    c.materializer_redis = redis::ReadRedisOptions(materializer.Section("redis"));
  }
  if (materializer.Has("offline_store")) {
    c.offline_reader = pg::ReadPgOptions(materializer.Section("offline_store"));
  }
  if (materializer.Has("offline_store_writer")) {
    c.offline_writer = pg::ReadPgOptions(materializer.Section("offline_store_writer"));
  }
  config::Reader gateway = services.Section("gateway");
  if (gateway.Has("auth")) c.gateway_auth = auth::ReadAuthConfig(gateway.Section("auth"));
  if (root.Has("tracing")) c.tracing = trace::ReadTracingConfig(root.Section("tracing"));
  RETURN_IF_ERROR(root.Finish());
  c.inline_secrets = root.InlineSecrets();
  return c;
}

}  // namespace granary::cli
