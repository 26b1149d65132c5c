#include "libs/server/server_config.h"

#include <malloc.h>
#include <sched.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"

#include "libs/trace/tracing_config.h"

namespace granary::server {
namespace {

// Shorter keys make the HMAC guessable; 32 bytes is SHA-256's own size.
constexpr size_t kMinSecretBytes = 32;

GatewaySignatureConfig ReadGatewaySignature(config::Reader section) {
  GatewaySignatureConfig c;
  c.required = section.Bool("required", c.required);
  c.leeway = section.Duration("leeway", c.leeway, absl::ZeroDuration(), absl::Minutes(5));
  std::string file = section.String("secret_file", "");
  std::string env = section.String("secret_env", "");
  if (!file.empty() && !env.empty()) {
    section.AddError("secret_env", "set secret_file or secret_env, not both");
    return c;
  }
  if (file.empty() && env.empty()) {
    if (c.required) {
      section.AddError("secret_file", "required (or secret_env) when required is true");
    }
    return c;
  }
  const char* key = file.empty() ? "secret_env" : "secret_file";
  absl::StatusOr<config::Secret> secret =
      file.empty() ? config::Secret::FromEnv(env) : config::Secret::FromFile(file);
  if (!secret.ok()) {
    section.AddError(key, secret.status().message());
  } else if (secret->value().size() < kMinSecretBytes) {
    section.AddError(key, absl::StrCat("the secret has ", secret->value().size(),
                                       " bytes; at least ", kMinSecretBytes, " are needed"));
  } else {
    c.secret = *std::move(secret);
  }
  return c;
}

}  // namespace

std::string ApplyMallocArenas(const ServerConfig& config) {
  int arenas = config.malloc_arenas;
  if (arenas == 0) {
    if (const char* env = std::getenv("MALLOC_ARENA_MAX"); env != nullptr) {
      return absl::StrCat("MALLOC_ARENA_MAX=", env);
    }
    cpu_set_t cpus;
    if (sched_getaffinity(0, sizeof(cpus), &cpus) != 0) return "glibc's default (no affinity)";
    arenas = CPU_COUNT(&cpus);
  }
  if (mallopt(M_ARENA_MAX, arenas) != 1) return "glibc's default (mallopt refused)";
  return absl::StrCat(arenas);
}

ServerConfig ReadServerConfig(config::Reader section, const ServerDefaults& defaults) {
  ServerConfig c;
  c.grpc_address = section.Address("grpc_address", defaults.grpc_address);
  c.metrics_address = section.Address("metrics_address", defaults.metrics_address);
  c.drain_delay =
      section.Duration("drain_delay", c.drain_delay, absl::ZeroDuration(), absl::Minutes(5));
  c.drain_timeout =
      section.Duration("drain_timeout", c.drain_timeout, absl::ZeroDuration(), absl::Minutes(10));
  std::string level = section.String("log_level", "info");
  absl::StatusOr<base::LogLevel> parsed = base::ParseLogLevel(level);
  if (parsed.ok()) {
    c.log_level = *parsed;
  } else {
    section.AddError("log_level", parsed.status().message());
  }
  c.max_message_bytes =
      static_cast<int>(section.Int("max_message_bytes", c.max_message_bytes, 1 << 16, 1 << 30));
  c.grpc_memory_limit = section.Bytes("grpc_memory_limit", defaults.grpc_memory_limit);
  if (c.grpc_memory_limit != 0 && c.grpc_memory_limit < (int64_t{16} << 20)) {
    section.AddError("grpc_memory_limit", "0 (no limit) or at least 16MiB");
  }
  c.dependency_check_interval =
      section.Duration("dependency_check_interval", c.dependency_check_interval,
                       absl::Milliseconds(50), absl::Minutes(5));
  c.malloc_arenas = static_cast<int>(section.Int("malloc_arenas", 0, 0, 1024));
  c.gateway_signature = ReadGatewaySignature(section.Section("gateway_signature"));
  c.tracing = trace::ReadTracingConfig(section.Section("tracing"));
  return c;
}

}  // namespace granary::server
