// Watches the backends a service cannot work without (Redis, PostgreSQL, NATS, upstream
// services). Each dependency has its own worker, so a slow backend never delays the others:
// healthy ones are re-checked every interval, failing ones retried with backoff. The service
// is healthy only while every required check passes; each change is reported (health status,
// logs, a gauge per dependency).
//
//   DependencyMonitor monitor({{"redis", [&] { return redis.Ping(); }}}, options,
//                             [&](bool healthy) { health->SetServingStatus(healthy); });
//   monitor.Start();
#ifndef GRANARY_LIBS_SERVER_DEPENDENCY_MONITOR_H_
#define GRANARY_LIBS_SERVER_DEPENDENCY_MONITOR_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "prometheus/registry.h"

#include "libs/base/backoff.h"

namespace granary::server {

struct Dependency {
  // Short name for logs and metrics ("redis").
  std::string name;
  // Connects if needed and checks the backend answers. Should be bounded by its own timeouts;
  // a check that hangs only keeps its own dependency's status stale.
  std::function<absl::Status()> check;
  // Whether health depends on it. An optional dependency is watched (logs and gauge) but
  // does not make the service NOT_SERVING: the gateway keeps serving reads while the
  // materializer is down.
  bool required = true;
};

class DependencyMonitor {
 public:
  struct Options {
    absl::Duration interval = absl::Seconds(1);
    base::BackoffOptions retry = {.initial = absl::Milliseconds(100), .max = absl::Seconds(5)};
    // Start waits this long for the first round of checks; Stop this long for each worker.
    absl::Duration wait = absl::Seconds(10);
  };

  // on_change is called with the overall health, once at Start and then on every change,
  // never concurrently and never after Stop returns.
  DependencyMonitor(std::vector<Dependency> dependencies, Options options,
                    std::function<void(bool healthy)> on_change, prometheus::Registry& metrics);
  ~DependencyMonitor();

  // Checks everything once (so the first status is known on return), then keeps watching.
  void Start();
  void Stop();
  bool healthy() const;

 private:
  struct State;
  struct Watched;
  static void Work(std::shared_ptr<State> state, std::shared_ptr<Watched> watched);

  std::shared_ptr<State> state_;
  std::vector<std::shared_ptr<Watched>> watched_;
};

}  // namespace granary::server

#endif  // GRANARY_LIBS_SERVER_DEPENDENCY_MONITOR_H_
