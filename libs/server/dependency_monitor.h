// Watches the backends a service cannot work without (Redis, PostgreSQL, NATS, upstream
// services) from one background thread. Healthy backends are re-checked every interval;
// failing ones are retried with backoff. The service is healthy only while every check passes,
// and each change is reported (health status, logs, a gauge per dependency).
//
//   DependencyMonitor monitor({{"redis", [&] { return redis.Ping(); }}}, options,
//                             [&](bool healthy) { health->SetServingStatus(healthy); });
//   monitor.Start();
#ifndef GRANARY_LIBS_SERVER_DEPENDENCY_MONITOR_H_
#define GRANARY_LIBS_SERVER_DEPENDENCY_MONITOR_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "prometheus/registry.h"

#include "libs/base/backoff.h"

namespace granary::server {

struct Dependency {
  // Short name for logs and metrics ("redis").
  std::string name;
  // Connects if needed and checks the backend answers; must return within a few seconds.
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
  };

  DependencyMonitor(std::vector<Dependency> dependencies, Options options,
                    std::function<void(bool healthy)> on_change, prometheus::Registry& metrics);
  ~DependencyMonitor();

  // Checks everything once (so the first status is known on return), then keeps watching.
  void Start();
  void Stop();
  bool healthy() const;

 private:
  struct Watched;
  void Loop();
  // Runs due checks; returns when the next one is due.
  absl::Time CheckDue(absl::Time now);
  void Publish();

  Options options_;
  std::function<void(bool)> on_change_;
  std::vector<std::unique_ptr<Watched>> watched_;
  std::thread thread_;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool healthy_ ABSL_GUARDED_BY(mu_) = false;
  bool published_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace granary::server

#endif  // GRANARY_LIBS_SERVER_DEPENDENCY_MONITOR_H_
