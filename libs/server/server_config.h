// The `server:` config section every service shares.
//
//   server:
//     grpc_address: 127.0.0.1:6571
//     metrics_address: 127.0.0.1:9571
//     drain_delay: 0s
//     drain_timeout: 10s
//     log_level: info
//     max_message_bytes: 67108864
//     grpc_memory_limit: 512MiB     # 0: none
//     dependency_check_interval: 1s
//     malloc_arenas: 0              # 0: one per core this process may run on
//     gateway_signature:            # calls forwarded by the gateway (libs/server/caller_check.h)
//       required: false             # true: refuse every call the gateway did not sign
//       secret_file: /run/secrets/gateway  # or secret_env: NAME; one of them when required
//       leeway: 5s
//     tracing:                      # OpenTelemetry (libs/trace/tracer.h)
//       otlp_endpoint: otel-collector:4317   # empty: no spans exported (trace ids still flow)
//       otlp_tls: false
//       sample_ratio: 1.0           # share of the traces starting here that are recorded
//       export_interval: 5s
//       max_batch: 512
//       max_queue: 2048
//       export_timeout: 10s
#ifndef GRANARY_LIBS_SERVER_SERVER_CONFIG_H_
#define GRANARY_LIBS_SERVER_SERVER_CONFIG_H_

#include <string>

#include "absl/time/time.h"

#include "libs/base/log.h"
#include "libs/config/reader.h"
#include "libs/config/secret.h"
#include "libs/trace/tracer.h"

namespace granary::server {

// The gateway's signature on the calls it forwards (libs/auth/caller_signature.h).
struct GatewaySignatureConfig {
  // Refuse (UNAUTHENTICATED) every call without a valid signature: set it on every backend
  // that is reachable otherwise than through the gateway.
  bool required = false;
  // The key shared with the gateway (from secret_file or secret_env). Mandatory when
  // required; when set but not required, a signed call's user is still the signed one.
  config::Secret secret;
  // Clock difference tolerated between the gateway's host and this one.
  absl::Duration leeway = absl::Seconds(5);
};

struct ServerConfig {
  // Where gRPC listens; port 0 picks a free one.
  std::string grpc_address;
  // Where Prometheus scrapes /metrics; port 0 picks a free one.
  std::string metrics_address;
  // After SIGTERM, how long to keep serving while health already says NOT_SERVING, so that
  // load balancers stop routing here first (e.g. a few seconds behind a Kubernetes Service).
  absl::Duration drain_delay = absl::ZeroDuration();
  // Then, how long in-flight calls (streams included) may run before they are cancelled.
  absl::Duration drain_timeout = absl::Seconds(10);
  base::LogLevel log_level = base::LogLevel::kInfo;
  // Largest request or response message.
  int max_message_bytes = 64 << 20;
  // What gRPC's transport may hold in buffers, over all connections (a gRPC ResourceQuota):
  // past it, gRPC stops reading from sockets until memory is freed, so memory stays bounded
  // however many clients send at once. 0: no limit.
  int64_t grpc_memory_limit = 0;
  // How often healthy backends are checked (failing ones are retried with backoff).
  absl::Duration dependency_check_interval = absl::Seconds(1);
  // glibc malloc arenas (M_ARENA_MAX). glibc's default, 8 per core of the host, lets memory
  // freed by one thread sit unused in another's arena: under many clients, resident memory
  // grew with their number although what was allocated did not (tools/bench ingest). 0: one
  // per core this process may run on (its CPU affinity; a CPU quota without an affinity mask
  // is not seen), unless MALLOC_ARENA_MAX is set.
  int malloc_arenas = 0;
  GatewaySignatureConfig gateway_signature;
  trace::TracingConfig tracing;
};

// The malloc arenas `config` asks for, applied to this process (before its threads start):
// an explicit malloc_arenas wins over MALLOC_ARENA_MAX; 0 leaves an explicit MALLOC_ARENA_MAX
// alone. Returns what was done, for the start-up log: the number set, or why none was.
std::string ApplyMallocArenas(const ServerConfig& config);

// Each service's own default addresses.
struct ServerDefaults {
  std::string grpc_address;
  std::string metrics_address;
  int64_t grpc_memory_limit = 0;
};

// Reads the section; problems are recorded in the reader.
ServerConfig ReadServerConfig(config::Reader section, const ServerDefaults& defaults);

}  // namespace granary::server

#endif  // GRANARY_LIBS_SERVER_SERVER_CONFIG_H_
