#include "services/serving/config.h"

#include <algorithm>

#include "libs/base/cpus.h"

namespace granary::serving {

ServingConfig ReadServingConfig(config::Reader& root) {
  ServingConfig c;
  config::Reader serving = root.Section("serving");
  registry_client::ServedProjects served = registry_client::ReadServedProjects(serving);
  c.reader.default_project = served.default_project;
  c.reader.projects = served.projects;
  c.reader.max_entity_rows =
      static_cast<size_t>(serving.Int("max_entity_rows", 1000, 1, 1'000'000));
  c.reader.max_request_time = serving.Duration("max_request_time", absl::Seconds(1),
                                               absl::Milliseconds(1), absl::Minutes(1));
  const int cpus = base::UsableCpus();
  c.grpc_threads = static_cast<int>(serving.Int("grpc_threads", std::max(1, cpus / 2), 1, 64));
  c.read_connections =
      static_cast<int>(serving.Int("read_connections", std::max(1, cpus / 2), 1, 64));
  c.read_on_request_thread = serving.Bool("read_on_request_thread", true);
  c.request_thread_wait = serving.Duration("request_thread_wait", c.request_thread_wait,
                                           absl::Microseconds(10), absl::Seconds(10));
  c.reader.compute_threads = static_cast<int>(serving.Int("compute_threads", cpus, 0, 256));
  c.reader.plan.whole_hash_share = serving.Double("whole_hash_share", 0.75, 0, 1);
  c.registry = registry_client::ReadRegistryClientOptions(root.Section("registry"));
  if (root.Has("nats")) c.nats = bus::ReadNatsOptions(root.Section("nats"));
  c.redis = redis::ReadRedisOptions(root.Section("redis"));
  return c;
}

}  // namespace granary::serving
